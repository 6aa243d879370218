import type { Kind, ObjectOf } from '../api/kinds.ts';
import type { Logger } from '../api/log.ts';
import { isStoreError } from '../api/store/errors.ts';
import type { ObjectStore, WatchHandle } from '../api/store/port.ts';

/** What an informer tells its handler: the change and the object before it (undefined on add). */
export type InformerEvent<K extends Kind> =
  | { readonly type: 'add'; readonly object: ObjectOf<K> }
  | { readonly type: 'update'; readonly object: ObjectOf<K>; readonly old: ObjectOf<K> }
  | { readonly type: 'delete'; readonly object: ObjectOf<K> };

/** The handler of an informer and its retry timing. */
export interface InformerOptions<K extends Kind> {
  readonly onEvent: (e: InformerEvent<K>) => void;
  readonly log?: Logger;
  /** First retry delay after a failed list or watch; doubles up to maxBackoffMs, with ±50% jitter. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

/**
 * List + watch + cache for one kind, as client-go's informer: list, emit adds, watch from the
 * list's resourceVersion; when the watch ends with Gone, relist at once and emit the difference
 * (adds, updates, deletes); any other failure retries with jittered exponential backoff.
 * Concurrency contract: the handler runs synchronously in the store's event callback; keep it short.
 */
export class Informer<K extends Kind> {
  private readonly cache = new Map<string, ObjectOf<K>>();
  private watchHandle: WatchHandle | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private synced!: () => void;
  /** Resolves after the first successful list has been delivered. */
  readonly hasSynced: Promise<void>;

  constructor(
    private readonly store: ObjectStore,
    private readonly kind: K,
    private readonly opts: InformerOptions<K>,
  ) {
    this.hasSynced = new Promise((resolve) => (this.synced = resolve));
  }

  /** Starts listing and watching; resolves when the first list has been delivered. */
  async start(): Promise<void> {
    void this.run();
    await this.hasSynced;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.watchHandle?.stop();
  }

  /** The cached object of this name. */
  get(name: string): ObjectOf<K> | undefined {
    return this.cache.get(name);
  }

  /** Every cached object. */
  list(): ObjectOf<K>[] {
    return [...this.cache.values()];
  }

  private retry(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const base = Math.min(this.opts.maxBackoffMs ?? 30_000, (this.opts.backoffMs ?? 200) * 2 ** Math.min(this.failures - 1, 16));
    const delay = base * (0.5 + Math.random());
    this.opts.log?.warn('informer retrying', { kind: this.kind, delayMs: Math.round(delay), err });
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }

  private emit(e: InformerEvent<K>): void {
    try {
      this.opts.onEvent(e);
    } catch (err) {
      this.opts.log?.error('informer handler failed', { kind: this.kind, err });
    }
  }

  private put(o: ObjectOf<K>): void {
    const old = this.cache.get(o.metadata.name);
    this.cache.set(o.metadata.name, o);
    if (old === undefined) this.emit({ type: 'add', object: o });
    else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit({ type: 'update', object: o, old });
  }

  private remove(o: ObjectOf<K>): void {
    const old = this.cache.get(o.metadata.name);
    if (old === undefined) return;
    this.cache.delete(o.metadata.name);
    this.emit({ type: 'delete', object: o });
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    let rv: string;
    try {
      const { items, resourceVersion } = await this.store.list(this.kind);
      const seen = new Set<string>();
      for (const o of items) {
        seen.add(o.metadata.name);
        this.put(o);
      }
      for (const o of [...this.cache.values()]) if (!seen.has(o.metadata.name)) this.remove(o);
      rv = resourceVersion;
    } catch (err) {
      this.retry(err);
      return;
    }
    this.synced();
    if (this.stopped) return;
    try {
      this.watchHandle = this.store.watch(this.kind, { resourceVersion: rv }, (e) => {
        if (e.type === 'BOOKMARK') return;
        if (e.type === 'DELETED') this.remove(e.object);
        else this.put(e.object);
      });
    } catch (err) {
      this.retry(err);
      return;
    }
    this.failures = 0;
    this.watchHandle.done.then(
      () => {
        // A watch the server closed (timeouts do that) is simply resumed.
        if (!this.stopped) this.retry(new Error('watch closed'));
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (isStoreError(err, 'Gone')) void this.run();
        else this.retry(err);
      },
    );
  }
}
