import type { Logger } from '../api/log.ts';

/**
 * A deduplicating work queue of keys, as client-go's workqueue: a key queued while it is being
 * processed runs again afterwards, never twice at once; a failed pass is retried with backoff.
 * Concurrency contract: at most `concurrency` keys are processed at a time, each key by one pass.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly work: (key: string) => Promise<void>,
    private readonly opts: { concurrency: number; log?: Logger; maxBackoffMs?: number },
  ) {}

  /** Queues a key (no-op when already queued). */
  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    this.pump();
  }

  /** Queues a key after a delay. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.queued.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops queued keys and timers; resolves when the passes in flight end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queued.clear();
    this.dirty.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.idle();
  }

  private pump(): void {
    while (this.running.size < this.opts.concurrency) {
      const next = this.queued.values().next();
      if (next.done === true) break;
      const key = next.value;
      this.queued.delete(key);
      this.running.add(key);
      void this.process(key);
    }
    if (this.queued.size === 0 && this.running.size === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }

  private async process(key: string): Promise<void> {
    try {
      await this.work(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(this.opts.maxBackoffMs ?? 30_000, 50 * 2 ** Math.min(n, 16)) * (0.5 + Math.random());
      this.opts.log?.warn('reconcile failed; retrying', { key, attempt: n, delayMs: Math.round(delay), err });
      this.addAfter(key, delay);
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.queued.add(key);
      this.pump();
    }
  }
}
