import type { DiskStatus } from '../api/codecs/node.ts';
import type { Replica } from '../api/codecs/replica.ts';
import type { Logger } from '../api/log.ts';
import { resolveSettings } from '../api/settings.ts';
import type { ObjectStore } from '../api/store/port.ts';
import { readDiskCapacity } from './capacity.ts';
import { diskReadiness, type DiskObservation } from './conditions.ts';
import { probeDisk, type ProbeIo } from './health.ts';
import { checkDiskIdentity } from './identity.ts';
import { buildDiskStatus, buildNodeStatus, isReplicaOnDisk, writeNodeStatus } from './report.ts';

/** What the agent knows of one disk after the latest pass. */
export interface DiskState {
  readonly name: string;
  readonly path: string;
  readonly uuid: string | undefined;
  readonly ready: boolean;
  /** Not ready only because it does not answer (hung, slow): its replica processes are left alone. */
  readonly hung: boolean;
  readonly message: string;
}

/** How the disk monitor runs. */
export interface DiskMonitorOptions {
  readonly store: ObjectStore;
  readonly node: string;
  readonly log: Logger;
  /** Time between passes; a disk that stops answering turns not Ready within one interval. */
  readonly intervalMs?: number;
  /** How long one disk may take to answer (keep it below intervalMs). */
  readonly probeTimeoutMs?: number;
  readonly probeIo?: ProbeIo;
  /** Called after a pass in which some disk's readiness changed. */
  readonly onChange?: () => void;
}

/** The disk manager of one node: probes its disks periodically and reports into Node.status. */
export interface DiskMonitor {
  /** Runs one pass now (the periodic loop runs them too). */
  runOnce(): Promise<void>;
  /** The disk holding this Replica, as of the latest pass (undefined: not one of ours, or not yet seen). */
  diskOf(r: Replica): DiskState | undefined;
  stop(): Promise<void>;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Starts the disk manager's loop; the first pass starts at once. */
export function startDiskMonitor(opts: DiskMonitorOptions): DiskMonitor {
  const intervalMs = opts.intervalMs ?? 5000;
  const probeTimeoutMs = opts.probeTimeoutMs ?? Math.max(50, Math.floor(intervalMs * 0.8));
  const states = new Map<string, DiskState>();
  // A disk whose previous observation never came back is not probed again (no pile-up of hung calls).
  const pending = new Map<string, Promise<DiskObservation>>();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const observe = (path: string, expected: string | undefined, hasReplicas: boolean): Promise<DiskObservation> => {
    const hung: DiskObservation = {
      identity: { _tag: 'Unreadable', message: `disk at ${path} did not answer within ${probeTimeoutMs} ms` },
      capacity: undefined,
      probe: { ok: false, message: `disk at ${path} did not answer within ${probeTimeoutMs} ms`, timedOut: true },
    };
    const prev = pending.get(path);
    if (prev !== undefined) return Promise.resolve(hung);
    const work = (async (): Promise<DiskObservation> => {
      const [identity, capacity, probe] = await Promise.all([
        checkDiskIdentity(path, expected, hasReplicas),
        readDiskCapacity(path).catch(() => undefined),
        probeDisk(path, probeTimeoutMs, opts.probeIo),
      ]);
      return { identity, capacity, probe };
    })();
    pending.set(path, work);
    void work.finally(() => pending.delete(path)).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<DiskObservation>((res) => {
      timer = setTimeout(() => res(hung), probeTimeoutMs + 20);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  };

  const markFailed = async (replicas: readonly Replica[], disk: DiskState, now: string) => {
    for (const r of replicas) {
      if (!isReplicaOnDisk(r, opts.node, disk) || (r.spec.failedAt ?? '') !== '' || r.metadata.deletionTimestamp !== undefined) continue;
      opts.log.warn('replica failed: its disk is not ready', { kind: 'Replica', name: r.metadata.name, disk: disk.name, reason: disk.message });
      await opts.store.patch('Replica', r.metadata.name, { type: 'merge', value: { spec: { failedAt: now } } }).catch((e: unknown) => opts.log.warn('could not mark replica failed', { kind: 'Replica', name: r.metadata.name, error: e }));
    }
  };

  const pass = async (): Promise<void> => {
    const node = await opts.store.get('Node', opts.node);
    const replicas = (await opts.store.list('Replica')).items.filter((r) => r.spec.nodeID === opts.node);
    const settings = resolveSettings(Object.fromEntries((await opts.store.list('Setting')).items.map((s) => [s.metadata.name, s.value])));
    const now = stamp(new Date());
    const disks = Object.entries(node.spec.disks ?? {});
    const observed = await Promise.all(
      disks.map(([name, spec]) => {
        const prev = node.status?.diskStatus?.[name];
        const hasReplicas = replicas.some((r) => isReplicaOnDisk(r, opts.node, { name, path: spec.path, uuid: prev?.diskUUID }));
        return observe(spec.path, prev?.diskUUID, hasReplicas);
      }),
    );
    const diskStatus: Record<string, DiskStatus> = {};
    let changed = false;
    const seen = new Set<string>();
    for (const [i, [name, spec]] of disks.entries()) {
      const obs = observed[i] as DiskObservation;
      const st = buildDiskStatus(opts.node, name, spec, obs, replicas, settings['storage-minimal-available-percentage'], node.status?.diskStatus?.[name], now);
      diskStatus[name] = st;
      const r = diskReadiness(obs);
      const hung = !r.ready && !obs.probe.ok && obs.probe.timedOut === true && obs.identity._tag !== 'Changed';
      const state: DiskState = { name, path: spec.path, uuid: st.diskUUID, ready: r.ready, hung, message: r.message };
      const before = states.get(name);
      if (before === undefined || before.ready !== state.ready || before.uuid !== state.uuid || before.path !== state.path) {
        changed = true;
        if (!state.ready) opts.log.warn('disk not ready', { disk: name, path: spec.path, reason: r.reason, message: r.message });
        else if (before !== undefined) opts.log.info('disk ready', { disk: name, path: spec.path });
      }
      states.set(name, state);
      seen.add(name);
      if (!state.ready) await markFailed(replicas, state, now);
    }
    for (const name of [...states.keys()]) {
      if (!seen.has(name)) {
        states.delete(name);
        changed = true;
      }
    }
    await writeNodeStatus(opts.store, opts.node, buildNodeStatus(node, diskStatus, now), node);
    if (changed) opts.onChange?.();
  };

  const runOnce = (): Promise<void> => {
    running = running.then(pass).catch((e: unknown) => {
      if (!stopped) opts.log.warn('disk pass failed', { error: e });
    });
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    if (stopped) return;
    void runOnce().then(() => {
      if (!stopped) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();

  return {
    runOnce,
    diskOf(r) {
      for (const d of states.values()) if (isReplicaOnDisk(r, opts.node, d)) return d;
      return undefined;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
