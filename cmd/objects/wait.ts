import { CommandError } from '../../api/cli/command.ts';
import type { Kind, ObjectOf } from '../../api/kinds.ts';
import type { ObjectStore } from '../../api/store/port.ts';

/**
 * Waits until `done(obj)` holds for the named object, watching it (and relisting if the watch
 * ends), calling `progress` whenever what it reports changes. Rejects after `timeoutMs` with a
 * message saying what it waited for and the last state seen.
 */
export async function waitFor<K extends Kind>(
  store: ObjectStore,
  kind: K,
  name: string,
  done: (o: ObjectOf<K>) => boolean,
  opts: { timeoutMs: number; what: string; progress?: (o: ObjectOf<K>) => string; onProgress?: (line: string) => void; signal?: AbortSignal },
): Promise<ObjectOf<K>> {
  let last = '';
  const report = (o: ObjectOf<K>) => {
    const line = opts.progress?.(o);
    if (line !== undefined && line !== last) {
      last = line;
      opts.onProgress?.(line);
    }
  };
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const cur = await store.get(kind, name);
    report(cur);
    if (done(cur)) return cur;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || opts.signal?.aborted) throw new CommandError(`timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${opts.what}${last ? ` (last: ${last})` : ''}`);
    const found = await new Promise<ObjectOf<K> | undefined>((resolve) => {
      const h = store.watch(kind, { resourceVersion: cur.metadata.resourceVersion }, (e) => {
        if (e.type === 'BOOKMARK' || e.object.metadata.name !== name) return;
        if (e.type === 'DELETED') return finish(undefined);
        report(e.object);
        if (done(e.object)) finish(e.object);
      });
      const timer = setTimeout(() => finish(undefined), Math.min(remaining, 5000));
      const onAbort = () => finish(undefined);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      function finish(v: ObjectOf<K> | undefined) {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        h.stop();
        resolve(v);
      }
      // A watch that ends (Gone, connection lost) falls back to the next get.
      h.done.then(() => finish(undefined), () => finish(undefined));
    });
    if (found !== undefined) return found;
  }
}
