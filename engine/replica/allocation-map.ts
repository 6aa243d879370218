/**
 * A sparse bitmap of blocks: which blocks a layer holds. Memory is spent only where something was
 * written: the volume is cut into chunks of CHUNK_BLOCKS blocks, and a chunk's bitmap (4 KiB) is
 * allocated on its first set bit. With 4 KiB blocks a chunk covers 128 MiB of volume, so a fully
 * written TiB costs 32 MiB per layer, an untouched one 64 KiB of chunk pointers.
 *
 * Concurrency contract: none needed; JS is single-threaded and every method is synchronous.
 */

/** Blocks per chunk (2^15): one 4 KiB Uint32Array each. */
export const CHUNK_BLOCKS = 32768;
const CHUNK_WORDS = CHUNK_BLOCKS / 32;

/** A block run: `count` blocks from `start`. */
export interface BlockRun {
  readonly start: number;
  readonly count: number;
}

/** A sparse set of block indexes in [0, blockCount). */
export class AllocationMap {
  private readonly chunks: Array<Uint32Array | undefined>;
  private count: number;

  constructor(blockCount: number) {
    this.count = blockCount;
    this.chunks = new Array<Uint32Array | undefined>(Math.ceil(blockCount / CHUNK_BLOCKS)).fill(undefined);
  }

  /** Blocks the map covers: [0, blockCount). */
  get blockCount(): number {
    return this.count;
  }

  /** Covers `blockCount` blocks from now on (volume expansion); the new ones are clear. Never shrinks. */
  grow(blockCount: number): void {
    if (blockCount < this.count) throw new Error(`invariant: an allocation map grows, ${this.count} to ${blockCount} blocks`);
    // Bits past the old end in its last chunk are clear: nothing could set them.
    for (let n = Math.ceil(blockCount / CHUNK_BLOCKS); this.chunks.length < n; ) this.chunks.push(undefined);
    this.count = blockCount;
  }

  /** Chunks with a bitmap allocated (for the memory figures). */
  get allocatedChunks(): number {
    let n = 0;
    for (const c of this.chunks) if (c !== undefined) n++;
    return n;
  }

  has(block: number): boolean {
    const c = this.chunks[Math.floor(block / CHUNK_BLOCKS)];
    if (c === undefined) return false;
    const i = block % CHUNK_BLOCKS;
    return ((c[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }

  /** Whether every block of [start, start+count) is set. */
  hasAll(start: number, count: number): boolean {
    for (let b = start; b < start + count; b++) if (!this.has(b)) return false;
    return true;
  }

  /** Whether any block of [start, start+count) is set. */
  hasAny(start: number, count: number): boolean {
    const f = this.nextSet(start, start + count);
    return f !== -1;
  }

  set(block: number): void {
    const ci = Math.floor(block / CHUNK_BLOCKS);
    let c = this.chunks[ci];
    if (c === undefined) {
      c = new Uint32Array(CHUNK_WORDS);
      this.chunks[ci] = c;
    }
    const i = block % CHUNK_BLOCKS;
    c[i >>> 5] = (c[i >>> 5] as number) | (1 << (i & 31));
  }

  clear(block: number): void {
    const c = this.chunks[Math.floor(block / CHUNK_BLOCKS)];
    if (c === undefined) return;
    const i = block % CHUNK_BLOCKS;
    c[i >>> 5] = (c[i >>> 5] as number) & ~(1 << (i & 31));
  }

  setRun(start: number, count: number): void {
    for (let b = start; b < start + count; b++) this.set(b);
  }

  clearRun(start: number, count: number): void {
    for (let b = start; b < start + count; b++) this.clear(b);
  }

  /** The first set block in [from, end), or -1. Skips absent chunks and zero words. */
  nextSet(from: number, end: number): number {
    let b = from;
    while (b < end) {
      const ci = Math.floor(b / CHUNK_BLOCKS);
      const c = this.chunks[ci];
      if (c === undefined) {
        b = (ci + 1) * CHUNK_BLOCKS;
        continue;
      }
      const i = b % CHUNK_BLOCKS;
      const word = (c[i >>> 5] as number) >>> (i & 31);
      if (word === 0) {
        b += 32 - (i & 31);
        continue;
      }
      const hit = b + (31 - Math.clz32(word & -word));
      return hit < end ? hit : -1;
    }
    return -1;
  }

  /** The first clear block in [from, end), or `end` if all are set. */
  nextClear(from: number, end: number): number {
    let b = from;
    while (b < end) {
      const ci = Math.floor(b / CHUNK_BLOCKS);
      const c = this.chunks[ci];
      if (c === undefined) return b;
      const i = b % CHUNK_BLOCKS;
      const word = ~(c[i >>> 5] as number) >>> (i & 31);
      if (word === 0) {
        b += 32 - (i & 31);
        continue;
      }
      const hit = b + (31 - Math.clz32(word & -word));
      return Math.min(hit, end);
    }
    return end;
  }

  /** The runs of set blocks within [from, end), in order. */
  *runs(from = 0, end = this.blockCount): Generator<BlockRun> {
    let b = this.nextSet(from, end);
    while (b !== -1) {
      const stop = this.nextClear(b, end);
      yield { start: b, count: stop - b };
      b = this.nextSet(stop, end);
    }
  }

  /** A copy (used to compute the persisted state for log compaction). */
  clone(): AllocationMap {
    const m = new AllocationMap(this.blockCount);
    this.chunks.forEach((c, i) => {
      if (c !== undefined) m.chunks[i] = c.slice();
    });
    return m;
  }
}
