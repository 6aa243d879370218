/**
 * Checks every direct-access command makes before it touches the device, in SBC-3 order: protection
 * fields (no protection information is supported), transfer length limits, then the LBA range.
 */
import type { BlockRange } from './cdb.ts';
import type { ScsiResult } from './logical-unit.ts';
import { Asc, SenseKey, checkCondition, invalidFieldInCdb, lbaOutOfRange } from './sense.ts';
import { blockCount, type UnitContext } from './unit-state.ts';

/** The CDB byte holding the transfer length of each layout, for the field pointer. */
export function lengthByte(cdb: Buffer): number {
  const op = cdb[0] ?? 0;
  if (op === 0x08 || op === 0x0a) return 4;
  if (op === 0x89) return 13; // COMPARE AND WRITE
  if (op === 0x9c) return 12; // WRITE ATOMIC (16)
  if (op >> 5 === 1 || op >> 5 === 2) return 7;
  if (op >> 5 === 5) return 6;
  return 10;
}

/** RD/WR/VRPROTECT must be zero: the unit has no protection information (SBC-3 §4.22.2). */
export function checkProtect(r: BlockRange): ScsiResult | undefined {
  return r.protect !== 0 ? invalidFieldInCdb(1, 7) : undefined;
}

/** LBA + length must lie within the capacity (SBC-3 §4.5: LOGICAL BLOCK ADDRESS OUT OF RANGE). */
export function checkRange(ctx: UnitContext, lba: number, blocks: number): ScsiResult | undefined {
  if (lba + blocks > blockCount(ctx)) return lbaOutOfRange(lba);
  return undefined;
}

/** A transfer longer than `max` blocks is INVALID FIELD IN CDB on the length field (SBC-3 §6.6.3). */
export function checkLength(cdb: Buffer, blocks: number, max: number): ScsiResult | undefined {
  return blocks > max ? invalidFieldInCdb(lengthByte(cdb)) : undefined;
}

/** Software write protect (control mode page SWP) refuses writes with DATA PROTECT / WRITE PROTECTED. */
export function checkWritable(ctx: UnitContext): ScsiResult | undefined {
  return ctx.mode.swp ? checkCondition({ key: SenseKey.DataProtect, asc: Asc.WriteProtected }) : undefined;
}

/** The first offset where two buffers differ, or -1. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  if (a.subarray(0, n).equals(b.subarray(0, n))) return n === a.length && n === b.length ? -1 : n;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** MISCOMPARE / MISCOMPARE DURING VERIFY OPERATION, INFORMATION = offset of the first differing byte. */
export function miscompare(offset: number): ScsiResult {
  return checkCondition({ key: SenseKey.Miscompare, asc: Asc.MiscompareDuringVerify, information: offset });
}
