/**
 * An LBA range lock: COMPARE AND WRITE and WRITE ATOMIC hold their range while they read, compare and
 * write, and every write takes its range too, so no write lands inside a COMPARE AND WRITE (SBC-3
 * §5.2: the compare and the write are one atomic operation). Overlapping requests run in arrival order.
 */
class Held {
  private done: Promise<void> | undefined;
  private resolve: (() => void) | undefined;

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

/** Serialises overlapping LBA ranges; disjoint ranges run at once. */
export class RangeLock {
  private readonly held = new Set<Held>();

  /**
   * Holds [lba, lba + blocks) at once when no holder or waiter overlaps it, and returns its release;
   * undefined when it would have to wait (then call `acquire`). The common write takes this path
   * without a promise.
   */
  tryAcquire(lba: number, blocks: number): (() => void) | undefined {
    const end = lba + Math.max(blocks, 1);
    for (const h of this.held) if (h.start < end && lba < h.end) return undefined;
    return this.hold(lba, end);
  }

  /** Waits until no earlier holder overlaps [lba, lba + blocks), then holds it until release() is called. */
  async acquire(lba: number, blocks: number): Promise<() => void> {
    const end = lba + Math.max(blocks, 1);
    const waitFor: Promise<void>[] = [];
    for (const h of this.held) if (h.start < end && lba < h.end) waitFor.push(h.whenReleased());
    const release = this.hold(lba, end);
    if (waitFor.length > 0) await Promise.all(waitFor);
    return release;
  }

  private hold(start: number, end: number): () => void {
    const me = new Held(start, end);
    this.held.add(me);
    return () => {
      if (!this.held.delete(me)) return;
      me.released();
    };
  }

  /** Ranges held or waited for (tests). */
  get size(): number {
    return this.held.size;
  }
}
