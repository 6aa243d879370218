import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiskSpec } from '../../api/codecs/node.ts';
import type { Kind } from '../../api/kinds.ts';
import type { Logger } from '../../api/log.ts';
import { formatBytes } from '../../api/quantity.ts';
import { resolveSettings } from '../../api/settings.ts';
import type { ObjectStore, WatchHandle } from '../../api/store/port.ts';
import { defaultReservedBytes, readDiskCapacity } from '../../diskmgr/capacity.ts';
import type { ProbeIo } from '../../diskmgr/health.ts';
import { startDiskMonitor } from '../../diskmgr/monitor.ts';
import { ensureNode } from '../../diskmgr/report.ts';
import { engineName, newEngineMemory, reconcileEngines } from './engines.ts';
import { reconcileReplicas } from './replicas.ts';
import { startResyncLoop, type ResyncLoop } from './resync-loop.ts';
import { ensureClusterSecret } from './secret.ts';
import { Supervisor } from './supervisor.ts';
import { startHeartbeat } from './node-liveness.ts';

/** How `startAgent` runs one node's agent. */
export interface AgentOptions {
  readonly store: ObjectStore;
  /** The Node object's name. */
  readonly node: string;
  /** Disks put into a Node object this agent creates (an existing Node's spec.disks wins). */
  readonly disks: ReadonlyArray<{ readonly name: string; readonly path: string }>;
  /** The agent's own files: children state, logs, secrets. Default ~/.shorthorn/agents/<node>. */
  readonly dataRoot?: string;
  /** The cluster secret every agent shares (created if absent). Default <dataRoot>/cluster.secret. */
  readonly clusterSecretFile?: string;
  /** Ports for replica and engine processes, inclusive. */
  readonly portRange: readonly [number, number];
  /** Address children listen on. */
  readonly host: string;
  readonly log: Logger;
  /** argv prefix that runs `shorthorn`. Default [node, <repo>/bin/shorthorn.mjs]. */
  readonly shorthornBin?: readonly string[];
  /** Disk probe interval (default 5000 ms) and timeout (default 80% of it). */
  readonly diskIntervalMs?: number;
  /** Heartbeat period (Node.status.lastHeartbeatTime), default 10 s. */
  readonly heartbeatMs?: number;
  readonly probeTimeoutMs?: number;
  /** The disk probe's file I/O (tests pass one that hangs). */
  readonly probeIo?: ProbeIo;
  /** Full reconcile and engine status poll interval (default 1000 ms). */
  readonly resyncMs?: number;
  /** Restart backoff of dead children: first delay and cap (default 500 ms, 30 s). */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** How long an attach waits for every healthy replica before starting with those running (default 10 s). */
  readonly startWaitMs?: number;
}

/** A running agent. */
export interface Agent {
  /**
   * Stops the agent. Its children keep running (a new agent adopts them) unless `stopChildren`
   * is set (a whole-cluster shutdown).
   */
  stop(opts?: { stopChildren?: boolean }): Promise<void>;
}

/** The default argv prefix: this checkout's bin/shorthorn.mjs under the running node. */
export function defaultShorthornBin(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../bin/shorthorn.mjs', import.meta.url))];
}

async function initialDisks(store: ObjectStore, disks: AgentOptions['disks']): Promise<Record<string, DiskSpec>> {
  const settings = resolveSettings(Object.fromEntries((await store.list('Setting')).items.map((s) => [s.metadata.name, s.value])));
  const out: Record<string, DiskSpec> = {};
  for (const d of disks) {
    await fs.mkdir(d.path, { recursive: true });
    const cap = await readDiskCapacity(d.path);
    const reserved = defaultReservedBytes(cap.maximumBytes, settings['storage-reserved-percentage-for-default-disk']);
    out[d.name] = { path: d.path, allowScheduling: true, storageReserved: formatBytes(reserved), tags: [] };
  }
  return out;
}

function keepWatching(store: ObjectStore, kind: Kind, onEvent: () => void, log: Logger): { stop(): void } {
  let handle: WatchHandle | undefined;
  let stopped = false;
  const start = () => {
    if (stopped) return;
    handle = store.watch(kind, {}, onEvent);
    handle.done.then(
      () => undefined,
      (e: unknown) => {
        if (stopped) return;
        log.debug('watch ended; restarting', { watchKind: kind, error: e });
        setTimeout(start, 500).unref();
      },
    );
  };
  start();
  return {
    stop() {
      stopped = true;
      handle?.stop();
    },
  };
}

/**
 * Starts one node's agent: creates the Node object if absent, adopts the children a previous
 * agent left, then runs the disk monitor and the replica and engine reconcilers until stopped.
 */
export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const log = opts.log.with({ node: opts.node });
  const dataRoot = opts.dataRoot ?? join(homedir(), '.shorthorn', 'agents', opts.node);
  await fs.mkdir(dataRoot, { recursive: true, mode: 0o700 });
  const clusterSecret = await ensureClusterSecret(opts.clusterSecretFile ?? join(dataRoot, 'cluster.secret'));
  await ensureNode(opts.store, opts.node, await initialDisks(opts.store, opts.disks));

  let loop: ResyncLoop | undefined;
  const trigger = () => loop?.trigger();
  const supervisor = new Supervisor({
    dataRoot,
    host: opts.host,
    portRange: opts.portRange,
    log,
    onChange: trigger,
    ...(opts.backoffBaseMs !== undefined ? { backoffBaseMs: opts.backoffBaseMs } : {}),
    ...(opts.backoffMaxMs !== undefined ? { backoffMaxMs: opts.backoffMaxMs } : {}),
  });
  await supervisor.adopt();
  const monitor = startDiskMonitor({
    store: opts.store,
    node: opts.node,
    log,
    onChange: trigger,
    ...(opts.diskIntervalMs !== undefined ? { intervalMs: opts.diskIntervalMs } : {}),
    ...(opts.probeTimeoutMs !== undefined ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
    ...(opts.probeIo !== undefined ? { probeIo: opts.probeIo } : {}),
  });
  await monitor.runOnce();
  const heartbeat = startHeartbeat({ store: opts.store, node: opts.node, log, ...(opts.heartbeatMs !== undefined ? { intervalMs: opts.heartbeatMs } : {}) });
  await heartbeat.beat();

  const deps = { store: opts.store, node: opts.node, host: opts.host, dataRoot, log, supervisor, disks: monitor, shorthornBin: opts.shorthornBin ?? defaultShorthornBin(), clusterSecret };
  const mem = newEngineMemory();
  const timing = { startWaitMs: opts.startWaitMs ?? 10_000, addIntervalMs: 3000 };
  let swept = false;
  const pass = async () => {
    const [replicas, volumes, engines] = await Promise.all([opts.store.list('Replica'), opts.store.list('Volume'), opts.store.list('Engine')]);
    const claimed = await reconcileReplicas(deps, replicas.items);
    for (const k of await reconcileEngines(deps, mem, timing, volumes.items, engines.items, replicas.items)) claimed.add(k);
    if (!swept) {
      swept = true;
      await supervisor.sweep(claimed);
    }
  };
  loop = startResyncLoop(pass, { intervalMs: opts.resyncMs ?? 1000, log, name: 'agent' });
  const watches = (['Replica', 'Volume', 'Engine'] as const).map((k) => keepWatching(opts.store, k, trigger, log));
  log.info('agent started', { dataRoot, portRange: opts.portRange });

  return {
    async stop(o = {}) {
      for (const w of watches) w.stop();
      heartbeat.stop();
      await loop?.stop();
      await monitor.stop();
      const stopped = await supervisor.close(o.stopChildren === true);
      // Say so on the objects: nobody should use the old addresses until the next agent reports new ones.
      for (const key of stopped) {
        const [kind, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
        const patch = { type: 'merge' as const, value: { status: { currentState: 'stopped', pid: null, ...(kind === 'replica' ? { address: null, message: 'its agent stopped it' } : { message: 'its agent stopped it' }) } } };
        if (kind === 'replica') await opts.store.patch('Replica', name, patch, { subresource: 'status' }).catch(() => undefined);
        else await opts.store.patch('Engine', engineName(name), patch, { subresource: 'status' }).catch(() => undefined);
      }
      log.info('agent stopped', { childrenStopped: o.stopChildren === true });
    },
  };
}
