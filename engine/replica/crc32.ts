import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, reflected 0xEDB88320), for the checksums of on-disk records: Node's native
 * zlib implementation (the same values as a table-driven loop, without the per-byte JS cost).
 */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  return zlibCrc32(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
}
