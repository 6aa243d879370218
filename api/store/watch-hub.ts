import type { Kind } from '../kinds.ts';
import { StoreError } from './errors.ts';
import { matchesSelector, type Selector } from './label-selector.ts';
import type { WatchEvent, WatchHandle } from './port.ts';

type Obj = { metadata: { labels?: Record<string, string> } } & Record<string, unknown>;

/** One change as the hub remembers it: the object before and after (null for absent). */
export interface Change {
  readonly rv: number;
  readonly kind: Kind;
  readonly before: Obj | null;
  readonly after: Obj | null;
  /** true when the change removed the object (after holds its final state). */
  readonly removed: boolean;
}

interface Watcher {
  readonly kind: Kind;
  readonly selector: Selector;
  readonly onEvent: (e: WatchEvent) => void;
  readonly end: (err?: Error) => void;
}

/**
 * Fans changes out to watchers and keeps a bounded history so a watch can resume from a
 * resourceVersion, as the API server's watch cache does. Label-selector watches see an object
 * enter (ADDED) and leave (DELETED) their selection, as the Kubernetes cacher reports them.
 */
export class WatchHub {
  private readonly history: Change[] = [];
  private readonly watchers = new Set<Watcher>();
  /** Changes after this version are all in `history`. */
  private oldest: number;

  constructor(
    private readonly historyLimit: number,
    startRv: number,
    private readonly bookmarkIntervalMs: number,
    private readonly currentRv: () => number,
  ) {
    this.oldest = startRv;
  }

  /** Records a change and delivers it to every matching watcher, in order. */
  publish(c: Change): void {
    this.history.push(c);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.shift() as Change;
      this.oldest = dropped.rv;
    }
    for (const w of this.watchers) deliver(w, c);
  }

  /** Replays history after `fromRv` then follows live changes; `initial` lists current objects when no version was given. */
  watch(kind: Kind, selector: Selector, fromRv: number | undefined, initial: () => Obj[], onEvent: (e: WatchEvent) => void, allowBookmarks: boolean): WatchHandle {
    let settle!: { resolve: () => void; reject: (e: Error) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    let timer: NodeJS.Timeout | undefined;
    const w: Watcher = {
      kind,
      selector,
      onEvent,
      end: (err) => {
        if (!this.watchers.delete(w) && err === undefined) return;
        if (timer !== undefined) clearInterval(timer);
        if (err) settle.reject(err);
        else settle.resolve();
      },
    };
    if (fromRv !== undefined && fromRv < this.oldest) {
      settle.reject(new StoreError('Gone', `too old resource version: ${fromRv} (${this.oldest})`));
      return { stop: () => undefined, done };
    }
    this.watchers.add(w);
    if (fromRv === undefined) {
      for (const o of initial()) if (matchesSelector(selector, o.metadata.labels)) safeCall(w, { type: 'ADDED', object: o } as WatchEvent);
    } else {
      for (const c of this.history) if (c.rv > fromRv) deliver(w, c);
    }
    if (allowBookmarks) {
      timer = setInterval(() => safeCall(w, { type: 'BOOKMARK', resourceVersion: String(this.currentRv()) }), this.bookmarkIntervalMs);
      timer.unref();
    }
    return { stop: () => w.end(), done };
  }

  /** Ends every watch (the store is closing). */
  closeAll(): void {
    for (const w of [...this.watchers]) w.end();
  }
}

function safeCall(w: Watcher, e: WatchEvent): void {
  try {
    w.onEvent(e);
  } catch (err) {
    w.end(err instanceof Error ? err : new Error(String(err)));
  }
}

function deliver(w: Watcher, c: Change): void {
  if (c.kind !== w.kind) return;
  const was = c.before !== null && matchesSelector(w.selector, c.before.metadata.labels);
  const is = c.after !== null && !c.removed && matchesSelector(w.selector, c.after.metadata.labels);
  const obj = structuredClone(c.after ?? c.before) as never;
  if (c.removed) {
    if (was || (c.after !== null && matchesSelector(w.selector, c.after.metadata.labels))) safeCall(w, { type: 'DELETED', object: obj });
  } else if (is && !was) safeCall(w, { type: 'ADDED', object: obj });
  else if (is && was) safeCall(w, { type: 'MODIFIED', object: obj });
  else if (!is && was) safeCall(w, { type: 'DELETED', object: obj });
}
