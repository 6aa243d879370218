import type { Logger } from '../../../api/log.ts';
import type { ChapSecrets } from './login/chap.ts';
import type { LoginNegotiation } from './login/negotiate.ts';
import type { LogicalUnit } from './scsi/logical-unit.ts';
import type { Session } from './session.ts';
import type { TaskSet } from './task-set.ts';
import type { BufferPool } from '../../io/buffer-pool.ts';

/**
 * What a connection needs from its target: identity, the logical unit, authentication, timing,
 * and the target-wide session table (session reinstatement, resets that span sessions).
 */
export interface TargetContext {
  readonly iqn: string;
  readonly portalGroupTag: number;
  readonly chap: ChapSecrets | undefined;
  readonly lu: LogicalUnit;
  /** The logical unit's one task set, shared by every session (TST 000b): task attributes. */
  readonly taskSet: TaskSet;
  /** Recycled write buffers, when the device releases write data (BlockDevice.releasesWriteData). */
  readonly writeBuffers: BufferPool | undefined;
  readonly log: Logger;
  /** Ping an initiator after this much receive silence (NOP-In, RFC 7143 §11.19). */
  readonly nopIntervalMs: number;
  /** Drop a connection whose ping stays unanswered this long. */
  readonly nopTimeoutMs: number;
  /** Close a connection that has not completed its login this long after connecting. */
  readonly loginTimeoutMs: number;
  /** Creates (or reinstates) the session a completed leading login asks for. */
  openSession(owner: SessionOwner, login: LoginNegotiation, isid: string, cmdSn: number): Session;
  /** Whether a session with this TSIH exists (a login that adds a connection to it). */
  hasSession(tsih: number): boolean;
  /** Every live session with its owning connection. */
  owners(): Iterable<SessionOwner>;
  /** A session ended: forget it. */
  sessionEnded(session: Session): void;
}

/** The connection that runs a session (the target aborts tasks and closes through it). */
export interface SessionOwner {
  readonly session: Session | undefined;
  /** Aborts every task of the session on `lun` (or all LUNs), without responses. */
  abortTasks(lun: number | undefined): Promise<void>;
  /** Closes the connection (session reinstatement, cold reset). */
  close(reason: string): void;
}
