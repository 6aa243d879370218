/**
 * An LBA range lock: COMPARE AND WRITE and WRITE ATOMIC hold their range while they read, compare and
 * write, and every write takes its range too, so no write lands inside a COMPARE AND WRITE (SBC-3
 * §5.2: the compare and the write are one atomic operation). Overlapping requests run in arrival order.
 */
interface Held {
  readonly start: number;
  readonly end: number;
  readonly done: Promise<void>;
}

/** Serialises overlapping LBA ranges; disjoint ranges run at once. */
export class RangeLock {
  private readonly held = new Set<Held>();

  /** Waits until no earlier holder overlaps [lba, lba + blocks), then holds it until release() is called. */
  async acquire(lba: number, blocks: number): Promise<() => void> {
    const start = lba;
    const end = lba + Math.max(blocks, 1);
    const waitFor = [...this.held].filter((h) => h.start < end && start < h.end).map((h) => h.done);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const me: Held = { start, end, done };
    this.held.add(me);
    await Promise.all(waitFor);
    return () => {
      this.held.delete(me);
      release();
    };
  }

  /** Ranges held or waited for (tests). */
  get size(): number {
    return this.held.size;
  }
}
