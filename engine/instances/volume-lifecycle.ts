import { FINALIZER } from '../../api/codecs/meta.ts';
import type { Engine } from '../../api/codecs/engine.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import type { Logger } from '../../api/log.ts';
import { quantityBytes } from '../../api/quantity.ts';
import { isStoreError } from '../../api/store/errors.ts';
import type { ObjectStore, WatchHandle } from '../../api/store/port.ts';
import { stamp, statusDelta } from './deps.ts';
import { computeVolumeStatus } from './volume-state.ts';
import { startResyncLoop } from './resync-loop.ts';

/** How the volume lifecycle controller runs. */
export interface VolumeLifecycleOptions {
  readonly store: ObjectStore;
  readonly log: Logger;
  /** Full pass at least this often (events trigger passes in between). */
  readonly resyncMs?: number;
}

const ignoreNotFound = (e: unknown) => {
  if (!isStoreError(e, 'NotFound')) throw e;
};

async function finishDeletion(store: ObjectStore, log: Logger, v: Volume, engine: Engine | undefined, replicas: readonly Replica[]): Promise<void> {
  if (engine !== undefined) await store.delete('Engine', engine.metadata.name).catch(ignoreNotFound);
  for (const r of replicas) if (r.metadata.deletionTimestamp === undefined) await store.delete('Replica', r.metadata.name).catch(ignoreNotFound);
  if (engine !== undefined || replicas.length > 0) return; // next pass, once they are gone
  const fins = v.metadata.finalizers ?? [];
  if (!fins.includes(FINALIZER)) return;
  await store.patch('Volume', v.metadata.name, { type: 'merge', value: { metadata: { finalizers: fins.filter((f) => f !== FINALIZER), resourceVersion: v.metadata.resourceVersion } } }).catch((e: unknown) => {
    if (!isStoreError(e, 'NotFound') && !isStoreError(e, 'Conflict')) throw e;
  });
  log.info('volume deleted', { kind: 'Volume', name: v.metadata.name });
}

/** One pass: every Volume's lifecycle status, deletions carried through, leftovers of gone volumes removed. */
/**
 * spec.size grew: every replica's spec.volumeSize follows, so its agent (re)starts it at the new
 * size (`--allow-grow` grows a store that missed the expansion) and disk accounting counts it. The
 * running engine itself is expanded by the agent of its node (engines.ts).
 */
async function followGrowth(store: ObjectStore, log: Logger, v: Volume, replicas: readonly Replica[]): Promise<void> {
  const want = quantityBytes(v.spec.size);
  for (const r of replicas) {
    if (r.metadata.deletionTimestamp !== undefined || quantityBytes(r.spec.volumeSize) >= want) continue;
    await store.patch('Replica', r.metadata.name, { type: 'merge', value: { spec: { volumeSize: v.spec.size } } }).catch(ignoreNotFound);
    log.info('replica follows the volume size', { kind: 'Replica', name: r.metadata.name, volume: v.metadata.name, size: v.spec.size });
  }
}

export async function reconcileVolumes(store: ObjectStore, log: Logger): Promise<void> {
  const [volumes, engines, replicas] = await Promise.all([store.list('Volume'), store.list('Engine'), store.list('Replica')]);
  const now = stamp();
  const names = new Set(volumes.items.map((v) => v.metadata.name));
  for (const v of volumes.items) {
    const name = v.metadata.name;
    try {
      const engine = engines.items.find((e) => e.spec.volumeName === name);
      const mine = replicas.items.filter((r) => r.spec.volumeName === name);
      if (v.metadata.deletionTimestamp !== undefined) await finishDeletion(store, log, v, engine, mine);
      else await followGrowth(store, log, v, mine);
      const next = computeVolumeStatus(v, engine, mine, now);
      const delta = statusDelta(v.status as Record<string, unknown> | undefined, { ...next });
      if (delta === undefined) continue;
      if (delta.state !== undefined) log.info('volume state', { kind: 'Volume', name, state: next.state, robustness: next.robustness });
      else if (delta.robustness !== undefined) log.info('volume robustness', { kind: 'Volume', name, robustness: next.robustness });
      // A merge patch merges maps: names that left the engine are removed with null.
      if (delta.replicaModes !== undefined && delta.replicaModes !== null) {
        const old = ((v.status ?? {}) as { replicaModes?: Record<string, string> }).replicaModes ?? {};
        delta.replicaModes = { ...Object.fromEntries(Object.keys(old).map((k) => [k, null])), ...next.replicaModes };
      }
      await store.patch('Volume', name, { type: 'merge', value: { status: delta } }, { subresource: 'status' }).catch(ignoreNotFound);
    } catch (e) {
      log.warn('volume reconcile failed', { kind: 'Volume', name, error: e });
    }
  }
  // Engines and Replicas of volumes that no longer exist.
  for (const e of engines.items) if (!names.has(e.spec.volumeName)) await store.delete('Engine', e.metadata.name).catch(ignoreNotFound);
  for (const r of replicas.items) if (!names.has(r.spec.volumeName) && r.metadata.deletionTimestamp === undefined) await store.delete('Replica', r.metadata.name).catch(ignoreNotFound);
}

/**
 * The cluster-level volume lifecycle controller: the only writer of Volume.status.{state,
 * robustness, currentNodeID, endpoint, replicaModes, lastDegradedAt}, derived from Engines and
 * Replicas; carries a deleting Volume through (deletes its Engine and Replicas, then removes its
 * finalizer). Run one per cluster (dev up; the placement deployment in Kubernetes).
 */
export function startVolumeLifecycle(opts: VolumeLifecycleOptions): { stop(): Promise<void> } {
  const loop = startResyncLoop(() => reconcileVolumes(opts.store, opts.log), { intervalMs: opts.resyncMs ?? 2000, log: opts.log, name: 'volume-lifecycle' });
  const watches: WatchHandle[] = (['Volume', 'Engine', 'Replica'] as const).map((k) => opts.store.watch(k, {}, () => loop.trigger()));
  return {
    async stop() {
      for (const w of watches) w.stop();
      await loop.stop();
    },
  };
}
