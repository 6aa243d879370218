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

interface Entry {
  readonly start: number;
  readonly end: number;
  readonly done: Promise<void>;
}

/** A held range: call `release` exactly once when the mutation has completed on every replica. */
export interface RangeHold {
  release(): void;
}

const NO_WAIT: readonly Promise<void>[] = [];

/** FIFO range lock over byte ranges. */
export class RangeLock {
  private readonly active = new Set<Entry>();

  /** Number of holds and waiters (for tests and metrics). */
  get size(): number {
    return this.active.size;
  }

  /**
   * Takes [offset, offset+length). Returns the hold at once and a promise to await before issuing,
   * or undefined when nothing earlier overlaps (the fast path allocates no promise chain).
   */
  acquire(offsetBytes: number, lengthBytes: number): { hold: RangeHold; ready: Promise<unknown> | undefined } {
    const start = offsetBytes;
    const end = offsetBytes + lengthBytes;
    let waits: Promise<void>[] | readonly Promise<void>[] = NO_WAIT;
    for (const e of this.active) {
      if (e.start < end && start < e.end) {
        if (waits === NO_WAIT) waits = [];
        (waits as Promise<void>[]).push(e.done);
      }
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const entry: Entry = { start, end, done };
    this.active.add(entry);
    let released = false;
    const hold: RangeHold = {
      release: () => {
        if (released) return;
        released = true;
        this.active.delete(entry);
        resolve();
      },
    };
    const ready = waits.length === 0 ? undefined : waits.length === 1 ? waits[0] : Promise.all(waits);
    return { hold, ready };
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
