/**
 * A coarse bitmap of fixed-size regions of a volume (dirty-region tracking for delta rebuild), and
 * its compact text form: comma-separated runs of region indices (`0-3,17,40-41`), which stays short
 * for the clustered writes a replica misses while it is away.
 */

/** Region size for a volume: at least 1 MiB, grown in powers of two so a bitmap stays ≤ 2^20 bits (128 KiB). */
export function regionBytesFor(sizeBytes: number): number {
  let r = 1 << 20;
  while (sizeBytes / r > 1 << 20) r *= 2;
  return r;
}

/** A set of regions. */
export class RegionBitmap {
  private readonly bits: Uint8Array;
  readonly regions: number;

  constructor(
    readonly regionBytes: number,
    readonly sizeBytes: number,
  ) {
    this.regions = Math.ceil(sizeBytes / regionBytes);
    this.bits = new Uint8Array(Math.ceil(this.regions / 8));
  }

  /** Marks the regions that [offset, offset+length) touches; true when a region was new. */
  markRange(offsetBytes: number, lengthBytes: number): boolean {
    if (lengthBytes <= 0) return false;
    const first = Math.floor(offsetBytes / this.regionBytes);
    const last = Math.min(this.regions - 1, Math.floor((offsetBytes + lengthBytes - 1) / this.regionBytes));
    let added = false;
    for (let i = first; i <= last; i++) {
      const byte = i >> 3;
      const bit = 1 << (i & 7);
      const b = this.bits[byte] as number;
      if ((b & bit) === 0) {
        this.bits[byte] = b | bit;
        added = true;
      }
    }
    return added;
  }

  /** Whether region `i` is set. */
  has(i: number): boolean {
    return (((this.bits[i >> 3] as number) >> (i & 7)) & 1) === 1;
  }

  /**
   * Adds every region of `other`. Of another geometry (a volume that grew: more regions, perhaps
   * larger ones) it adds the regions of this one that overlap other's: a superset, so still safe
   * for a delta rebuild. Bytes past this bitmap's size are left out.
   */
  addAll(other: RegionBitmap): void {
    if (other.regionBytes === this.regionBytes && other.regions <= this.regions) {
      for (let i = 0; i < other.bits.length; i++) this.bits[i] = (this.bits[i] as number) | (other.bits[i] as number);
      return;
    }
    for (const [a, b] of other.runs()) this.markRange(a * other.regionBytes, (b - a + 1) * other.regionBytes);
  }

  /** A copy of `other` in the geometry of a volume of `sizeBytes` with `regionBytes` regions. */
  static from(other: RegionBitmap, regionBytes: number, sizeBytes: number): RegionBitmap {
    const bm = new RegionBitmap(regionBytes, sizeBytes);
    bm.addAll(other);
    return bm;
  }

  /** Number of regions set. */
  count(): number {
    let n = 0;
    for (let i = 0; i < this.regions; i++) if (this.has(i)) n++;
    return n;
  }

  /** The set regions as byte ranges, adjacent regions merged, clipped to the volume. */
  byteRanges(): Array<{ offsetBytes: number; lengthBytes: number }> {
    return this.runs().map(([a, b]) => {
      const offsetBytes = a * this.regionBytes;
      return { offsetBytes, lengthBytes: Math.min(this.sizeBytes, (b + 1) * this.regionBytes) - offsetBytes };
    });
  }

  /** Runs of set regions as inclusive [first, last] pairs. */
  runs(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let start = -1;
    for (let i = 0; i <= this.regions; i++) {
      const set = i < this.regions && this.has(i);
      if (set && start < 0) start = i;
      if (!set && start >= 0) {
        out.push([start, i - 1]);
        start = -1;
      }
    }
    return out;
  }

  /** The text form: `0-3,17`. */
  encode(): string {
    return this.runs()
      .map(([a, b]) => (a === b ? String(a) : `${a}-${b}`))
      .join(',');
  }

  /** Parses the text form, or returns a message saying what is wrong. */
  static decode(text: string, regionBytes: number, sizeBytes: number): RegionBitmap | string {
    const bm = new RegionBitmap(regionBytes, sizeBytes);
    if (text === '') return bm;
    for (const part of text.split(',')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part);
      const a = m ? Number(m[1]) : NaN;
      const b = m ? Number(m[2] ?? m[1]) : NaN;
      if (!m || b < a || b >= bm.regions) return `bad region run "${part}" (volume has ${bm.regions} regions)`;
      bm.markRange(a * regionBytes, (b - a + 1) * regionBytes);
    }
    return bm;
  }
}
