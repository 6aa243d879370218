import { TaskSet } from './task-set.ts';
import { createServer, type Server, type Socket } from 'node:net';
import type { IscsiTarget, IscsiTargetOptions } from '../index.ts';
import { volumeIqn } from '../index.ts';
import { Connection } from './connection.ts';
import type { SessionOwner, TargetContext } from './context.ts';
import type { LoginNegotiation } from './login/negotiate.ts';
import type { LogicalUnit } from './scsi/logical-unit.ts';
import { Session } from './session.ts';
import { BufferPool } from '../../io/buffer-pool.ts';

/**
 * The iSCSI target of one volume: a TCP listener, one target `iqn.2026-11.io.shorthorn:<volume>`
 * in portal group 1 with LUN 0, discovery and normal sessions, any number of sessions at once.
 */

/** Knobs for tests and embedders; production uses the defaults. */
export interface TargetTuning {
  /** The SCSI logical unit; by default the SCSI layer's block unit over `opts.device`. */
  readonly logicalUnit?: LogicalUnit;
  /** Receive silence before the target pings with NOP-In (default 5 s). */
  readonly nopIntervalMs?: number;
  /** How long a ping may go unanswered before the connection is dropped (default 30 s). */
  readonly nopTimeoutMs?: number;
  /**
   * How long a connection may take from connecting to its final Login Response before it is closed
   * (default 15 s, the login timeout of open-iscsi and of Linux's LIO target): a peer that connects
   * and stalls, or drips login PDUs, does not hold a connection forever.
   */
  readonly loginTimeoutMs?: number;
}

const PORTAL_GROUP_TAG = 1;
const DEFAULT_QUEUE_DEPTH = 128;
/** Idle write buffers kept for reuse (e.g. 64 × 1 MiB): a bounded cache, not a reservation. */
const WRITE_BUFFERS_IDLE_BYTES = 64 * 1024 * 1024;

async function defaultLogicalUnit(opts: IscsiTargetOptions): Promise<LogicalUnit> {
  // The SCSI layer (SPC-4/SBC-3 on LUN 0), loaded when a target starts; it subscribes to
  // device.onResize itself, so a volume resize reaches the unit as a capacity-changed unit attention.
  const { createBlockLogicalUnit } = await import('./scsi/index.ts');
  return createBlockLogicalUnit({ device: opts.device, volume: opts.volume, log: opts.log.with({ component: 'scsi' }) });
}

/** Starts the iSCSI target and resolves once it listens. */
export async function startTarget(opts: IscsiTargetOptions, tuning: TargetTuning = {}): Promise<IscsiTarget> {
  const lu = tuning.logicalUnit ?? (await defaultLogicalUnit(opts));
  const iqn = volumeIqn(opts.volume);
  const log = opts.log.with({ iqn });
  const sessions = new Map<number, { session: Session; owner: SessionOwner }>();
  const connections = new Set<Connection>();
  let nextTsih = 1;

  const ctx: TargetContext = {
    iqn,
    portalGroupTag: PORTAL_GROUP_TAG,
    chap: opts.chap,
    lu,
    taskSet: new TaskSet(),
    // Only our own unit over a device that copies write data may get recycled buffers: a custom
    // unit (tests) or a device that queues the data (the engine's replica sockets) keeps them.
    writeBuffers: tuning.logicalUnit === undefined && opts.device.releasesWriteData === true ? new BufferPool(WRITE_BUFFERS_IDLE_BYTES) : undefined,
    log,
    nopIntervalMs: tuning.nopIntervalMs ?? 5000,
    nopTimeoutMs: tuning.nopTimeoutMs ?? 30000,
    loginTimeoutMs: tuning.loginTimeoutMs ?? 15000,
    openSession(owner: SessionOwner, login: LoginNegotiation, isid: string, cmdSn: number): Session {
      // RFC 7143 §6.3.5: a leading login with TSIH 0 and the ISID of a live session reinstates it.
      for (const [tsih, s] of sessions) {
        if (s.session.isid === isid && s.session.initiatorName === login.initiatorName) {
          log.info('session reinstatement', { tsih, initiator: login.initiatorName });
          sessions.delete(tsih);
          void s.owner.abortTasks(undefined);
          s.owner.close('session reinstated');
        }
      }
      let tsih = nextTsih;
      while (tsih === 0 || sessions.has(tsih)) tsih = (tsih + 1) & 0xffff;
      nextTsih = (tsih + 1) & 0xffff;
      const session = new Session({
        tsih,
        isid,
        initiatorName: login.initiatorName,
        type: login.sessionType,
        params: login.params,
        cmdSn,
        depth: lu.queueDepth > 0 ? lu.queueDepth : DEFAULT_QUEUE_DEPTH,
        portalGroupTag: PORTAL_GROUP_TAG,
      });
      sessions.set(tsih, { session, owner });
      return session;
    },
    hasSession: (tsih) => sessions.has(tsih),
    *owners() {
      for (const s of sessions.values()) yield s.owner;
    },
    sessionEnded(session) {
      if (sessions.get(session.tsih)?.session === session) sessions.delete(session.tsih);
    },
  };

  // Paused until the connection has set up its receive path (see Connection, static-read.ts).
  const server: Server = createServer({ pauseOnConnect: true }, (socket: Socket) => {
    const conn = new Connection(socket, ctx);
    connections.add(conn);
    void conn.whenClosed().then(() => connections.delete(conn));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const portal = `${host}:${port}`;
  log.info('iSCSI target listening', { portal });
  return {
    iqn,
    portal,
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      const waits = [...connections].map((c) => {
        c.close('target stopping');
        return c.whenClosed();
      });
      await Promise.all([closing, ...waits]);
    },
  };
}
