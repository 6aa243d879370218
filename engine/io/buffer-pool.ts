/**
 * I/O buffers, recycled. Every READ or WRITE needs a buffer of its transfer length, and a buffer of
 * 4 KiB or more is its own ArrayBuffer (Node's shared slab only serves smaller ones): a malloc, an
 * external-memory report to V8 and a finalizer each. At tens of thousands of I/Os a second, or a few
 * hundred MiB/s of 1 MiB I/O, that external memory drives V8 into full collections (a quarter of the
 * target's CPU for 1 MiB writes in `npm run bench -- iscsi`, a fifth for 1 MiB reads). So the
 * target takes its write buffers and the logical unit its read buffers from a pool, and gives each
 * back once nothing refers to it any more: a write buffer when the unit has finished the command
 * (only when the device copies write data, BlockDevice.releasesWriteData), a read buffer when the
 * socket has taken the Data-In (the write callback) or when it is not sent at all.
 *
 * A buffer given back too early would be overwritten while still in use; a buffer never given back
 * is merely collected. Callers therefore give back only on the paths where the last user is known.
 */

/** Smaller buffers come from Node's shared slab. */
export const MIN_POOLED_BYTES = 4096;

/** A bounded free list of buffers, by exact size. */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private idleBytes = 0;

  /** @param maxIdleBytes the most memory kept idle in the free lists. */
  constructor(private readonly maxIdleBytes: number) {}

  /** A buffer of exactly `size` bytes, contents undefined. */
  take(size: number): Buffer {
    if (size >= MIN_POOLED_BYTES) {
      const b = this.free.get(size)?.pop();
      if (b !== undefined) {
        this.idleBytes -= size;
        return b;
      }
    }
    return Buffer.allocUnsafe(size);
  }

  /** Gives back a buffer from `take` that nothing reads or writes any more. */
  give(b: Buffer): void {
    const size = b.length;
    if (size < MIN_POOLED_BYTES || b.byteOffset !== 0 || b.buffer.byteLength !== size) return;
    if (this.idleBytes + size > this.maxIdleBytes) return;
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
    }
    list.push(b);
    this.idleBytes += size;
  }

  /** Memory held idle (tests). */
  get idle(): number {
    return this.idleBytes;
  }
}
