/**
 * Write data buffers, recycled. A 1 MiB write allocates a 1 MiB buffer for its data-out; at a few
 * hundred MiB/s that is a stream of large ArrayBuffers whose external memory drives V8 into full
 * collections (a quarter of the target's CPU in `npm run bench -- iscsi`, 1 MiB writes). Buffers of
 * `MIN_POOLED_BYTES` and more go back to a free list once the logical unit has finished the command,
 * when the device promises not to read write data after `writeAt` settles (BlockDevice.releasesWriteData).
 */

/** Smaller buffers come from Node's shared slab or are cheap to collect. */
export const MIN_POOLED_BYTES = 64 * 1024;

/** A bounded free list of buffers, by exact size. */
export class WriteBuffers {
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
