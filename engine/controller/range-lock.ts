/**
 * Orders overlapping mutations. Writes are issued to every replica in the same loop, so each
 * replica's connection carries them in the same order; but a replica may complete pipelined
 * requests out of order, so two overlapping writes in flight at once could land in different orders
 * on different replicas. The engine therefore admits a mutation only when every earlier, overlapping
 * mutation has completed everywhere. Non-overlapping I/O never waits (many I/Os stay in flight).
 *
 * Concurrency contract: admission is FIFO among overlapping ranges; an entry waits only on entries
 * admitted before it, so there is no deadlock. `exclusive` covers the whole device (a barrier).
 */

/** A held range: call `release` exactly once when the mutation has completed on every replica. */
export interface RangeHold {
  release(): void;
}

/** One admitted range. Later overlapping entries park a callback on it until it is released. */
class Entry implements RangeHold {
  private released = false;
  /** Callbacks of later entries that wait for this one. */
  waiters: (() => void)[] | undefined;

  constructor(
    private readonly active: Set<Entry>,
    readonly start: number,
    readonly end: number,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.active.delete(this);
    const w = this.waiters;
    this.waiters = undefined;
    if (w !== undefined) for (const f of w) f();
  }
}

/** FIFO range lock over byte ranges. */
export class RangeLock {
  private readonly active = new Set<Entry>();

  /** Number of holds and waiters (for tests and metrics). */
  get size(): number {
    return this.active.size;
  }

  /**
   * Takes [offset, offset+length). Returns the hold at once and a promise to await before issuing,
   * or undefined when nothing earlier overlaps: then no promise or callback is made at all.
   */
  acquire(offsetBytes: number, lengthBytes: number): { hold: RangeHold; ready: Promise<void> | undefined } {
    const start = offsetBytes;
    const end = offsetBytes + lengthBytes;
    let earlier: Entry[] | undefined;
    for (const e of this.active) {
      if (e.start < end && start < e.end) (earlier ??= []).push(e);
    }
    const hold = new Entry(this.active, start, end);
    this.active.add(hold);
    return { hold, ready: earlier === undefined ? undefined : afterAll(earlier) };
  }

  /** Takes a range and waits until it is ours. */
  async lock(offsetBytes: number, lengthBytes: number): Promise<RangeHold> {
    const { hold, ready } = this.acquire(offsetBytes, lengthBytes);
    if (ready !== undefined) await ready;
    return hold;
  }

  /** A barrier: waits for every earlier mutation and holds off later ones until released. */
  exclusive(): Promise<RangeHold> {
    return this.lock(0, Number.MAX_SAFE_INTEGER);
  }
}

/** Resolves once every entry in `entries` has been released. */
function afterAll(entries: readonly Entry[]): Promise<void> {
  return new Promise<void>((resolve) => {
    let left = entries.length;
    for (const e of entries) {
      (e.waiters ??= []).push(() => {
        if (--left === 0) resolve();
      });
    }
  });
}
