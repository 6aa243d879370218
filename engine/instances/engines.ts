import * as E from 'fp-ts/Either';
import { API_VERSION } from '../../api/codecs/meta.ts';
import type { Engine, EngineStatus } from '../../api/codecs/engine.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import { quantityBytes } from '../../api/quantity.ts';
import { isStoreError } from '../../api/store/errors.ts';
import { stamp, statusDelta, type InstanceDeps } from './deps.ts';
import { addEngineReplica, expandEngine, getEngineStatus, removeEngineReplica, type EngineReplicaStatus } from './engine-client.ts';
import { volumeSecretFile } from './secret.ts';

/** The name of a volume's Engine object. */
export function engineName(volume: string): string {
  return `${volume}-e-0`;
}

/** The supervisor key of a volume's engine process. */
export function engineKey(volume: string): string {
  return `engine/${volume}`;
}

/** Per-volume memory of the engine reconciler between passes (not persisted: it is only pacing). */
export interface EngineMemory {
  /** When this agent first saw the volume attached here (start waits a little for every replica). */
  readonly attachSeen: Map<string, number>;
  /** Replica name → when it was last added to its engine (adds are paced). */
  readonly lastAdd: Map<string, number>;
}

/** Fresh memory. */
export function newEngineMemory(): EngineMemory {
  return { attachSeen: new Map(), lastAdd: new Map() };
}

/** The engine reconciler's pacing. */
export interface EngineTiming {
  /** How long to wait for every healthy replica before starting an engine with the ones running. */
  readonly startWaitMs: number;
  /** Least time between two adds of the same replica. */
  readonly addIntervalMs: number;
}

const isRunning = (r: Replica) => r.status?.currentState === 'running' && typeof r.status?.address === 'string' && r.status.address !== '';
const isFailed = (r: Replica) => (r.spec.failedAt ?? '') !== '';
const isWanted = (r: Replica) => r.metadata.deletionTimestamp === undefined && r.spec.desireState === 'running';

async function patchEngineStatus(deps: InstanceDeps, e: Engine, next: EngineStatus): Promise<void> {
  const delta = statusDelta(e.status as Record<string, unknown> | undefined, next as Record<string, unknown>);
  if (delta === undefined) return;
  await deps.store.patch('Engine', e.metadata.name, { type: 'merge', value: { status: delta } }, { subresource: 'status' }).catch((err: unknown) => {
    if (!isStoreError(err, 'NotFound')) throw err;
  });
}

async function patchReplicaSpec(deps: InstanceDeps, r: Replica, spec: Record<string, unknown>): Promise<void> {
  await deps.store.patch('Replica', r.metadata.name, { type: 'merge', value: { spec } }).catch((err: unknown) => {
    if (!isStoreError(err, 'NotFound')) throw err;
  });
}

async function deleteEngineObject(deps: InstanceDeps, name: string): Promise<void> {
  await deps.store.delete('Engine', name).catch((err: unknown) => {
    if (!isStoreError(err, 'NotFound')) throw err;
  });
}

function rebuildOf(s: EngineReplicaStatus): { state?: 'in-progress' | 'complete' | 'error'; doneBytes?: string; totalBytes?: string; error?: string } | undefined {
  const rb = s.rebuild;
  if (rb === undefined || rb === null) return undefined;
  const done = rb.doneBytes ?? rb.bytesDone;
  const total = rb.totalBytes ?? rb.bytesTotal;
  const state = rb.state === 'complete' || rb.state === 'error' ? rb.state : rb.finished === true || s.mode === 'RW' ? 'complete' : s.mode === 'ERR' ? 'error' : 'in-progress';
  return { state, ...(done !== undefined ? { doneBytes: String(done) } : {}), ...(total !== undefined ? { totalBytes: String(total) } : {}), ...(rb.error !== undefined ? { error: rb.error } : {}) };
}

/** Starts the engine process of a volume with the given replica addresses (or leaves it to its backoff). */
function ensureEngineProcess(deps: InstanceDeps, v: Volume, addresses: readonly string[], secretFile: string) {
  const size = String(quantityBytes(v.spec.size));
  return deps.supervisor.ensure(engineKey(v.metadata.name), {
    portCount: 2,
    readyKey: 'control',
    argv: (ports) => [
      ...deps.shorthornBin, 'engine', 'serve', '--volume', v.metadata.name, '--size', size,
      ...addresses.flatMap((a) => ['--replica', a]),
      '--secret-file', secretFile, '--control', `${deps.host}:${ports[0]}`, '--frontend', 'iscsi', '--listen', `${deps.host}:${ports[1]}`,
    ],
  });
}

/**
 * Follows a running engine: reads its control API, reports modes on the Engine, marks ERR replicas
 * failed, (re)adds running replicas the engine lacks, drops ones that are gone, and marks replicas
 * that turned RW healthy again.
 */
async function followEngine(deps: InstanceDeps, mem: EngineMemory, timing: EngineTiming, v: Volume, eng: Engine, control: string, pid: number | undefined, ready: Readonly<Record<string, unknown>>, replicas: readonly Replica[]): Promise<void> {
  const st = await getEngineStatus(control);
  if (E.isLeft(st)) {
    await patchEngineStatus(deps, eng, { message: st.left.message });
    return;
  }
  // spec.size grew (the webhook allows only growth, with room on every replica's disk): expand online.
  const want = quantityBytes(v.spec.size);
  const have = st.right.sizeBytes;
  if (have !== undefined && have < want) {
    const grown = await expandEngine(control, want);
    if (E.isLeft(grown)) {
      deps.log.warn('cannot expand the engine', { kind: 'Engine', name: eng.metadata.name, sizeBytes: want, error: grown.left.message });
      await patchEngineStatus(deps, eng, { message: `expanding to ${v.spec.size}: ${grown.left.message}` });
      return;
    }
    deps.log.info('engine expanded', { kind: 'Engine', name: eng.metadata.name, fromBytes: have, sizeBytes: want });
    await deps.store.patch('Engine', eng.metadata.name, { type: 'merge', value: { spec: { volumeSize: v.spec.size } } }).catch((err: unknown) => {
      if (!isStoreError(err, 'NotFound')) throw err;
    });
    return; // the next pass reads the grown engine's status
  }
  const byAddress = new Map(st.right.replicas.map((s) => [s.address, s]));
  const previous = new Map(Object.entries(eng.spec.replicaAddressMap).map(([n, a]) => [a, n]));
  const nameOf = (address: string) => replicas.find((r) => r.status?.address === address)?.metadata.name ?? previous.get(address);
  const now = Date.now();
  for (const s of st.right.replicas) {
    const name = nameOf(s.address);
    const r = replicas.find((x) => x.metadata.name === name);
    if (r === undefined || !isWanted(r) || (s.mode === 'ERR' && r.status?.address !== s.address)) {
      // Gone, unwanted, or an old address of a replica that came back elsewhere: drop it.
      if (r !== undefined && s.mode === 'ERR' && !isFailed(r)) await patchReplicaSpec(deps, r, { failedAt: stamp() });
      const rm = await removeEngineReplica(control, s.address);
      if (E.isLeft(rm)) deps.log.warn('cannot remove replica from engine', { kind: 'Engine', name: eng.metadata.name, error: rm.left.message });
      byAddress.delete(s.address);
      continue;
    }
    if (s.mode === 'ERR' && !isFailed(r)) {
      deps.log.warn('replica is ERR in its engine', { kind: 'Replica', name: r.metadata.name, address: s.address, cause: s.cause });
      await patchReplicaSpec(deps, r, { failedAt: stamp() });
    }
    // Healthy again only when the engine has it RW and its own agent runs it (not when its disk is reported hung).
    if (s.mode === 'RW' && isRunning(r) && (isFailed(r) || (r.spec.healthyAt ?? '') === '')) await patchReplicaSpec(deps, r, { failedAt: '', healthyAt: stamp() });
  }
  for (const r of replicas) {
    if (!isWanted(r) || !isRunning(r)) continue;
    const address = r.status?.address as string;
    const s = byAddress.get(address);
    if (s !== undefined && s.mode !== 'ERR') continue;
    if (now - (mem.lastAdd.get(r.metadata.name) ?? 0) < timing.addIntervalMs) continue;
    mem.lastAdd.set(r.metadata.name, now);
    if (s !== undefined) {
      await removeEngineReplica(control, address);
      byAddress.delete(address);
    }
    const add = await addEngineReplica(control, address);
    if (E.isLeft(add)) {
      // A failed add (often the old address of a replica that is restarting) is retried on the next pass.
      mem.lastAdd.delete(r.metadata.name);
      deps.log.warn('cannot add replica to engine', { kind: 'Replica', name: r.metadata.name, error: add.left.message });
    } else {
      deps.log.info('added replica to engine (rebuild)', { kind: 'Replica', name: r.metadata.name, address });
      byAddress.set(address, { address, mode: 'WO' });
    }
  }
  const addressMap: Record<string, string> = {};
  const modes: Record<string, 'RW' | 'WO' | 'ERR'> = {};
  const rebuild: Record<string, ReturnType<typeof rebuildOf> & object> = {};
  for (const s of byAddress.values()) {
    const name = nameOf(s.address);
    if (name === undefined) continue;
    addressMap[name] = s.address;
    modes[name] = s.mode === 'RW' || s.mode === 'WO' ? s.mode : 'ERR';
    const rb = rebuildOf(s);
    if (rb !== undefined) rebuild[name] = rb;
  }
  if (JSON.stringify(addressMap) !== JSON.stringify(eng.spec.replicaAddressMap)) {
    await deps.store.patch('Engine', eng.metadata.name, { type: 'json', ops: [{ op: 'replace', path: '/spec/replicaAddressMap', value: addressMap }] }).catch((err: unknown) => {
      if (!isStoreError(err, 'NotFound')) throw err;
    });
  }
  await patchEngineStatus(deps, eng, {
    currentState: 'running',
    controlAddress: control,
    portal: String(ready.portal ?? ''),
    iqn: String(ready.iqn ?? ''),
    ...(pid !== undefined ? { pid } : {}),
    replicaModeMap: modes,
    rebuildStatus: rebuild,
    message: '',
  });
}

/**
 * One pass over the Volumes attached to this node: create the Engine object, start `shorthorn
 * engine serve` once the replicas run, follow it, and stop it when the volume is detached.
 * Returns the supervisor keys it claims.
 */
export async function reconcileEngines(deps: InstanceDeps, mem: EngineMemory, timing: EngineTiming, volumes: readonly Volume[], engines: readonly Engine[], replicas: readonly Replica[]): Promise<Set<string>> {
  const claimed = new Set<string>();
  const byName = new Map(engines.map((e) => [e.metadata.name, e]));
  for (const v of volumes) {
    const vol = v.metadata.name;
    const key = engineKey(vol);
    let eng = byName.get(engineName(vol));
    try {
      const here = v.spec.nodeID === deps.node && v.metadata.deletionTimestamp === undefined;
      if (!here) {
        mem.attachSeen.delete(vol);
        if (deps.supervisor.view(key) !== undefined) await deps.supervisor.stop(key);
        if (eng !== undefined && eng.spec.nodeID === deps.node) await deleteEngineObject(deps, eng.metadata.name);
        continue;
      }
      claimed.add(key);
      if (eng !== undefined && eng.spec.nodeID !== deps.node) continue; // the previous node lets go first
      if (!mem.attachSeen.has(vol)) mem.attachSeen.set(vol, Date.now());
      if (eng === undefined) {
        eng = await deps.store.create('Engine', {
          apiVersion: API_VERSION,
          kind: 'Engine',
          metadata: { name: engineName(vol), labels: { 'shorthorn.io/volume': vol } },
          spec: { volumeName: vol, volumeSize: v.spec.size, nodeID: deps.node, desireState: 'running', frontend: 'iscsi', replicaAddressMap: {} },
        });
      }
      const mine = replicas.filter((r) => r.spec.volumeName === vol && isWanted(r));
      const view = deps.supervisor.view(key);
      if (view?.phase === 'running' && typeof view.ready?.control === 'string') {
        await followEngine(deps, mem, timing, v, eng, view.ready.control, view.pid, view.ready, mine);
        continue;
      }
      if (view?.phase === 'starting') {
        await patchEngineStatus(deps, eng, { currentState: 'starting', pid: view.pid, message: '' });
        continue;
      }
      const running = mine.filter(isRunning);
      const healthy = mine.filter((r) => !isFailed(r));
      const waited = Date.now() - (mem.attachSeen.get(vol) ?? 0) >= timing.startWaitMs;
      const allUp = healthy.length > 0 && healthy.every(isRunning);
      if (running.length === 0 || (!allUp && !waited)) {
        await patchEngineStatus(deps, eng, { currentState: view?.phase === 'backoff' ? 'error' : 'pending', message: view?.message ?? `waiting for replicas: ${running.length} of ${mine.length} running` });
        continue;
      }
      const startWith = running.some((r) => !isFailed(r)) ? running.filter((r) => !isFailed(r)) : running;
      const secretFile = await volumeSecretFile(deps.dataRoot, deps.clusterSecret, vol);
      const started = ensureEngineProcess(deps, v, startWith.map((r) => r.status?.address as string), secretFile);
      const map = Object.fromEntries(startWith.map((r) => [r.metadata.name, r.status?.address as string]));
      if (started.phase === 'starting' && JSON.stringify(map) !== JSON.stringify(eng.spec.replicaAddressMap)) {
        await deps.store.patch('Engine', eng.metadata.name, { type: 'json', ops: [{ op: 'replace', path: '/spec/replicaAddressMap', value: map }] });
      }
      await patchEngineStatus(deps, eng, { currentState: started.phase === 'backoff' ? 'error' : 'starting', ...(started.pid !== undefined ? { pid: started.pid } : {}), message: started.message ?? '' });
    } catch (e) {
      deps.log.warn('engine reconcile failed', { kind: 'Volume', name: vol, error: e });
    }
  }
  // Engine objects of this node whose volume is gone, and engine processes nobody wants.
  const vols = new Set(volumes.map((v) => v.metadata.name));
  for (const e of engines) {
    if (e.spec.nodeID === deps.node && !vols.has(e.spec.volumeName)) await deleteEngineObject(deps, e.metadata.name).catch(() => undefined);
  }
  for (const key of deps.supervisor.keys()) {
    if (key.startsWith('engine/') && !vols.has(key.slice('engine/'.length))) await deps.supervisor.stop(key);
  }
  return claimed;
}
