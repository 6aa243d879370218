import { crc32 } from 'node:zlib';

/**
 * A verifiable write pattern: every 512-byte sector carries its LBA, a generation number and a
 * CRC-32 of the rest, so a reader can tell a sector that was never written (all zeros), a whole
 * sector of some generation, a sector written at the wrong place, and a torn sector.
 *
 * Layout (big-endian): 0 u64 lba | 8 u64 generation | 16..507 filler from (lba, generation) | 508 u32 crc32(0..507)
 */

const SECTOR = 512;
const CRC_AT = 508;

/** Fills `count` sectors starting at `lba` with generation `gen`. */
export function stampSectors(lba: number, count: number, gen: number): Buffer {
  const buf = Buffer.alloc(count * SECTOR);
  for (let i = 0; i < count; i++) {
    const at = i * SECTOR;
    buf.writeBigUInt64BE(BigInt(lba + i), at);
    buf.writeBigUInt64BE(BigInt(gen), at + 8);
    const fill = ((lba + i) * 2654435761 + gen * 40503) >>> 0;
    for (let o = 16; o < CRC_AT; o += 4) buf.writeUInt32BE((fill + o) >>> 0, at + o);
    buf.writeUInt32BE(crc32(buf.subarray(at, at + CRC_AT)), at + CRC_AT);
  }
  return buf;
}

/** What a sector holds. */
export type SectorState = { readonly kind: 'zero' } | { readonly kind: 'gen'; readonly gen: number } | { readonly kind: 'bad'; readonly why: string };

/** Reads sector `i` of `buf`, which starts at `firstLba`. */
export function readSector(buf: Buffer, i: number, firstLba: number): SectorState {
  const at = i * SECTOR;
  const s = buf.subarray(at, at + SECTOR);
  if (s.every((b) => b === 0)) return { kind: 'zero' };
  if (s.readUInt32BE(CRC_AT) !== crc32(s.subarray(0, CRC_AT))) return { kind: 'bad', why: 'torn or corrupt (checksum mismatch)' };
  const lba = Number(s.readBigUInt64BE(0));
  if (lba !== firstLba + i) return { kind: 'bad', why: `holds LBA ${lba}` };
  return { kind: 'gen', gen: Number(s.readBigUInt64BE(8)) };
}
