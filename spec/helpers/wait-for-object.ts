import type { Kind, ObjectOf } from '../../api/kinds.ts';
import type { ObjectStore, WatchHandle } from '../../api/store/port.ts';

/**
 * Resolves with the first state of `kind`/`name` that satisfies `pred` (checked now and on every
 * watch event), or rejects after `timeoutMs` with the last state seen. No polling, no sleeps.
 */
export function waitForObject<K extends Kind>(store: ObjectStore, kind: K, name: string, pred: (o: ObjectOf<K>) => boolean, timeoutMs = 30_000): Promise<ObjectOf<K>> {
  return new Promise((resolve, reject) => {
    let last: ObjectOf<K> | undefined;
    let settled = false;
    const finish = (err: Error | undefined, o?: ObjectOf<K>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      handle?.stop();
      if (err) reject(err);
      else resolve(o as ObjectOf<K>);
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${kind} ${name}; last seen: ${JSON.stringify(last ?? null)}`)), timeoutMs);
    let handle: WatchHandle | undefined;
    handle = store.watch(kind, {}, (e) => {
      if (e.type === 'BOOKMARK' || e.object.metadata.name !== name) return;
      if (e.type === 'DELETED') return;
      last = e.object;
      if (pred(e.object)) finish(undefined, e.object);
    });
    if (settled) handle.stop();
  });
}

/** Resolves when `kind`/`name` no longer exists. */
export function waitForGone(store: ObjectStore, kind: Kind, name: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      handle?.stop();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${kind} ${name} to go`)), timeoutMs);
    let handle: WatchHandle | undefined;
    handle = store.watch(kind, {}, (e) => {
      if (e.type === 'DELETED' && e.object.metadata.name === name) finish();
    });
    store.get(kind, name).catch(() => finish());
  });
}
