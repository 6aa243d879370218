/**
 * An LBA range lock: COMPARE AND WRITE and WRITE ATOMIC hold their range while they read, compare and
 * write, and every write takes its range too, so no write lands inside a COMPARE AND WRITE (SBC-3
 * §5.2: the compare and the write are one atomic operation). Overlapping requests run in arrival order.
 */
class Held {
  private done: Promise<void> | undefined;
  private resolve: (() => void) | undefined;
  /** Neighbours in the lock's list, in arrival order. */
  prev: Held | undefined;
  next: Held | undefined;
  linked = true;

  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  /** Settles when the holder lets go; made only when somebody waits (most writes overlap nothing). */
  whenReleased(): Promise<void> {
    this.done ??= new Promise<void>((resolve) => (this.resolve = resolve));
    return this.done;
  }

  released(): void {
    this.resolve?.();
  }
}

/**
 * Serialises overlapping LBA ranges; disjoint ranges run at once. The holders and waiters are a list
 * in arrival order, not a Set: a Set going 0 → 1 → 0 entries on every write grew and shrank its
 * hash table each time (V8 Runtime_SetShrink showed in profiles of QD1 writes).
 */
export class RangeLock {
  private first: Held | undefined;
  private last: Held | undefined;
  private count = 0;

  /**
   * Holds [lba, lba + blocks) at once when no holder or waiter overlaps it, and returns its release;
   * undefined when it would have to wait (then call `acquire`). The common write takes this path
   * without a promise.
   */
  tryAcquire(lba: number, blocks: number): (() => void) | undefined {
    const end = lba + Math.max(blocks, 1);
    for (let h = this.first; h !== undefined; h = h.next) if (h.start < end && lba < h.end) return undefined;
    return this.hold(lba, end);
  }

  /** Waits until no earlier holder overlaps [lba, lba + blocks), then holds it until release() is called. */
  async acquire(lba: number, blocks: number): Promise<() => void> {
    const end = lba + Math.max(blocks, 1);
    const waitFor: Promise<void>[] = [];
    for (let h = this.first; h !== undefined; h = h.next) if (h.start < end && lba < h.end) waitFor.push(h.whenReleased());
    const release = this.hold(lba, end);
    if (waitFor.length > 0) await Promise.all(waitFor);
    return release;
  }

  private hold(start: number, end: number): () => void {
    const me = new Held(start, end);
    me.prev = this.last;
    if (this.last === undefined) this.first = me;
    else this.last.next = me;
    this.last = me;
    this.count++;
    return () => this.unlink(me);
  }

  private unlink(me: Held): void {
    if (!me.linked) return;
    me.linked = false;
    if (me.prev === undefined) this.first = me.next;
    else me.prev.next = me.next;
    if (me.next === undefined) this.last = me.prev;
    else me.next.prev = me.prev;
    me.prev = undefined;
    me.next = undefined;
    this.count--;
    me.released();
  }

  /** Ranges held or waited for (tests). */
  get size(): number {
    return this.count;
  }
}
