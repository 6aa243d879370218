/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the iSCSI header and data digest
 * (RFC 7143 §13.1, RFC 3385). zlib's crc32 uses a different polynomial and is not usable here.
 * Slicing-by-8 tables: eight lookups per 8 input bytes.
 */

const POLY = 0x82f63b78; // CRC-32C reflected polynomial (RFC 3385)

const TABLES: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = t[0] as Uint32Array;
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let c = t0[i] as number;
    for (let s = 1; s < 8; s++) {
      c = (t0[c & 0xff] as number) ^ (c >>> 8);
      (t[s] as Uint32Array)[i] = c >>> 0;
    }
  }
  return t;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** Continues a CRC32C over `buf[start, end)`; pass the previous result (0 to start). */
export function crc32cUpdate(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  let c = ~crc >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (c ^ ((buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24))) >>> 0;
    c =
      (T7[lo & 0xff] as number) ^
      (T6[(lo >>> 8) & 0xff] as number) ^
      (T5[(lo >>> 16) & 0xff] as number) ^
      (T4[lo >>> 24] as number) ^
      (T3[buf[i + 4] as number] as number) ^
      (T2[buf[i + 5] as number] as number) ^
      (T1[buf[i + 6] as number] as number) ^
      (T0[buf[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (T0[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC32C of a whole buffer range. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32cUpdate(0, buf, start, end);
}

/**
 * The 4 digest bytes as they go on the wire. NOTE: iSCSI sends the CRC least significant byte
 * first (RFC 7143 §13.1 / RFC 3720 appendix B.4 examples), so it is written little-endian.
 */
export function writeDigest(target: Buffer, offset: number, crc: number): void {
  target.writeUInt32LE(crc, offset);
}

/** Reads a wire digest (little-endian, see writeDigest). */
export function readDigest(source: Buffer, offset: number): number {
  return source.readUInt32LE(offset);
}
