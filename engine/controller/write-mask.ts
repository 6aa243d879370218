/**
 * The sectors written by live I/O since a rebuild began. The rebuild copy skips them, so an old
 * block read from the source never overwrites a newer live write on the target. Sparse: a 256-byte
 * bitmap per 1 MiB chunk that was written, nothing for the rest.
 */

const SECTOR = 512;
const CHUNK_SECTORS = 2048;

/** Sectors written since a point in time. */
export class WriteMask {
  private readonly chunks = new Map<number, Uint8Array>();

  /** Marks [offset, offset+length) (multiples of 512). */
  mark(offsetBytes: number, lengthBytes: number): void {
    const first = offsetBytes / SECTOR;
    const end = first + lengthBytes / SECTOR;
    for (let s = first; s < end; s++) {
      const c = Math.floor(s / CHUNK_SECTORS);
      let bits = this.chunks.get(c);
      if (bits === undefined) {
        bits = new Uint8Array(CHUNK_SECTORS / 8);
        this.chunks.set(c, bits);
      }
      const i = s - c * CHUNK_SECTORS;
      bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
    }
  }

  /** Whether a sector (by byte offset) was written. */
  has(offsetBytes: number): boolean {
    const s = offsetBytes / SECTOR;
    const c = Math.floor(s / CHUNK_SECTORS);
    const bits = this.chunks.get(c);
    if (bits === undefined) return false;
    const i = s - c * CHUNK_SECTORS;
    return (((bits[i >> 3] as number) >> (i & 7)) & 1) === 1;
  }

  private touches(startBytes: number, endBytes: number): boolean {
    const last = Math.floor((endBytes - 1) / SECTOR / CHUNK_SECTORS);
    for (let c = Math.floor(startBytes / SECTOR / CHUNK_SECTORS); c <= last; c++) if (this.chunks.has(c)) return true;
    return false;
  }

  /** The parts of [offset, offset+length) NOT written, as ranges. */
  unmasked(offsetBytes: number, lengthBytes: number): Array<{ offsetBytes: number; lengthBytes: number }> {
    const out: Array<{ offsetBytes: number; lengthBytes: number }> = [];
    const end = offsetBytes + lengthBytes;
    if (!this.touches(offsetBytes, end)) return lengthBytes > 0 ? [{ offsetBytes, lengthBytes }] : out;
    let runStart = -1;
    for (let o = offsetBytes; o <= end; o += SECTOR) {
      const free = o < end && !this.has(o);
      if (free && runStart < 0) runStart = o;
      if (!free && runStart >= 0) {
        out.push({ offsetBytes: runStart, lengthBytes: o - runStart });
        runStart = -1;
      }
    }
    return out;
  }
}
