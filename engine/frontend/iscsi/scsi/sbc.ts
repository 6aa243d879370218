/**
 * SBC-3 data transfer commands: READ, WRITE, WRITE AND VERIFY, VERIFY, SYNCHRONIZE CACHE, PRE-FETCH,
 * COMPARE AND WRITE and WRITE ATOMIC (16). FUA (or a disabled write cache, WCE = 0) makes the write
 * durable before status: the device's writeAt runs with { fua: true }.
 */
import * as E from 'fp-ts/Either';
import { decodeBlockRange, type BlockRange } from './cdb.ts';
import { ScsiStatus, type ScsiCommand, type ScsiResult } from './logical-unit.ts';
import { Op } from './opcodes.ts';
import { checkLength, checkProtect, checkRange, checkWritable, firstDifference, lengthByte, miscompare } from './sbc-checks.ts';
import { good, invalidFieldInCdb, senseForIoError } from './sense.ts';
import { LOGICAL_BLOCK_BYTES, MAX_ATOMIC_BLOCKS, MAX_COMPARE_AND_WRITE_BLOCKS, MAX_TRANSFER_BLOCKS, type UnitContext } from './unit-state.ts';
import type { BufferPool } from '../../../io/buffer-pool.ts';

/** A command handler: runs one command on the unit. */
export type Handler = (ctx: UnitContext, cmd: ScsiCommand) => Promise<ScsiResult>;

const B = LOGICAL_BLOCK_BYTES;

/** Decodes and runs the common checks; returns the range or the failure to report. */
function prepare(ctx: UnitContext, cmd: ScsiCommand, max: number): BlockRange | ScsiResult {
  const d = decodeBlockRange(cmd.cdb);
  if (E.isLeft(d)) return invalidFieldInCdb(d.left.byte, d.left.bit);
  const r = d.right;
  return checkProtect(r) ?? checkRange(ctx, r.lba, r.blocks) ?? checkLength(cmd.cdb, r.blocks, max) ?? r;
}

function isRange(x: BlockRange | ScsiResult): x is BlockRange {
  return 'lba' in x;
}

/**
 * The release of a pooled read buffer. A function returned unnamed, not an arrow in an object
 * literal: tsx (esbuild keepNames) wraps a named closure in __name() every time one is made.
 */
function giveBack(pool: BufferPool, buf: Buffer): () => void {
  return () => pool.give(buf);
}

/** READ (6/10/12/16). */
export const read: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, MAX_TRANSFER_BLOCKS);
  if (!isRange(r)) return r;
  if (r.blocks === 0) return good();
  const pool = ctx.readBuffers;
  const device = ctx.device;
  try {
    if (pool === undefined || device.readInto === undefined) return good(await device.readAt(r.lba * B, r.blocks * B));
    const buf = pool.take(r.blocks * B);
    try {
      await device.readInto(r.lba * B, buf);
    } catch (err) {
      pool.give(buf);
      throw err;
    }
    return { status: ScsiStatus.Good, dataIn: buf, release: giveBack(pool, buf) };
  } catch (err) {
    return senseForIoError(err, 'read');
  }
};

async function writeBlocks(ctx: UnitContext, r: BlockRange, data: Buffer): Promise<ScsiResult> {
  const release = ctx.lock.tryAcquire(r.lba, r.blocks) ?? (await ctx.lock.acquire(r.lba, r.blocks));
  try {
    await ctx.device.writeAt(r.lba * B, data, { fua: r.fua || !ctx.mode.wce });
    return good();
  } catch (err) {
    return senseForIoError(err, 'write');
  } finally {
    release();
  }
}

/** The data-out a compare needs; short data-out (less than the CDB says) is refused. */
function payload(cmd: ScsiCommand, r: BlockRange, blocks = r.blocks): Buffer | ScsiResult {
  const need = blocks * B;
  if (cmd.dataOut.length < need) return invalidFieldInCdb(lengthByte(cmd.cdb));
  return cmd.dataOut.length === need ? cmd.dataOut : cmd.dataOut.subarray(0, need);
}

/**
 * The whole blocks of data-out a write gets. When the Expected Data Transfer Length was shorter than
 * the CDB's transfer length, only what arrived is written (libiscsi iSCSIResiduals; the iSCSI layer
 * reports the overflow residual from ScsiResult.dataOutLength).
 */
function received(cmd: ScsiCommand, r: BlockRange): Buffer {
  const blocks = Math.min(r.blocks, Math.floor(cmd.dataOut.length / B));
  return cmd.dataOut.length === blocks * B ? cmd.dataOut : cmd.dataOut.subarray(0, blocks * B);
}

/** WRITE (6/10/12/16) and WRITE AND VERIFY (10/12/16): the write is verified by the device's own checks. */
export const write: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, MAX_TRANSFER_BLOCKS);
  if (!isRange(r)) return r;
  const isWav = r.opcode === Op.WriteAndVerify10 || r.opcode === Op.WriteAndVerify12 || r.opcode === Op.WriteAndVerify16;
  // WRITE AND VERIFY: BYTCHK 00b (medium verify) and 01b (compare) are defined; 1xb are reserved here.
  if (isWav && r.bytchk > 1) return invalidFieldInCdb(1, 2);
  const wp = checkWritable(ctx);
  if (wp !== undefined) return wp;
  const data = received(cmd, r);
  if (data.length === 0) return good();
  return writeBlocks(ctx, r, data);
};

/** VERIFY (10/12/16): BYTCHK 00b checks the medium is readable, 01b compares every block, 11b one block against each. */
export const verify: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, MAX_TRANSFER_BLOCKS);
  if (!isRange(r)) return r;
  if (r.bytchk === 2) return invalidFieldInCdb(1, 2);
  if (r.blocks === 0) return good();
  let medium: Buffer;
  try {
    medium = await ctx.device.readAt(r.lba * B, r.blocks * B);
  } catch (err) {
    return senseForIoError(err, 'read');
  }
  if (r.bytchk === 0) return good();
  const sent = payload(cmd, r, r.bytchk === 3 ? 1 : r.blocks);
  if (!Buffer.isBuffer(sent)) return sent;
  const expected = r.bytchk === 3 ? Buffer.concat(Array.from({ length: r.blocks }, () => sent)) : sent;
  const at = firstDifference(medium, expected);
  return at < 0 ? good() : miscompare(at);
};

/** SYNCHRONIZE CACHE (10/16): flushes the whole device (a range flush is a whole flush here). */
export const synchronizeCache: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, Number.MAX_SAFE_INTEGER);
  if (!isRange(r)) return r;
  try {
    await ctx.device.flush();
    return good();
  } catch (err) {
    return senseForIoError(err, 'other');
  }
};

/** PRE-FETCH (10/16): nothing to stage ahead, so GOOD after the range check (SBC-3 §5.9). */
export const preFetch: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, Number.MAX_SAFE_INTEGER);
  return isRange(r) ? good() : r;
};

/**
 * COMPARE AND WRITE (SBC-3 §5.2): data-out is the verify data then the write data; the range lock
 * keeps other writes out between the read, the compare and the write.
 */
export const compareAndWrite: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, MAX_COMPARE_AND_WRITE_BLOCKS);
  if (!isRange(r)) return r;
  const wp = checkWritable(ctx);
  if (wp !== undefined) return wp;
  const len = r.blocks * B;
  // The data-out must be exactly verify + write data; this also catches a length that wrapped to 0.
  if (cmd.dataOut.length !== 2 * len) return invalidFieldInCdb(13);
  if (r.blocks === 0) return good();
  const release = ctx.lock.tryAcquire(r.lba, r.blocks) ?? (await ctx.lock.acquire(r.lba, r.blocks));
  try {
    const medium = await ctx.device.readAt(r.lba * B, len);
    const at = firstDifference(medium, cmd.dataOut.subarray(0, len));
    if (at >= 0) return miscompare(at);
    await ctx.device.writeAt(r.lba * B, cmd.dataOut.subarray(len), { fua: r.fua || !ctx.mode.wce });
    return good();
  } catch (err) {
    return senseForIoError(err, 'write');
  } finally {
    release();
  }
};

/** WRITE ATOMIC (16) (SBC-4 §5.48): all-or-nothing under the range lock; atomic boundaries are not supported. */
export const writeAtomic: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, MAX_ATOMIC_BLOCKS);
  if (!isRange(r)) return r;
  if (cmd.cdb.readUInt16BE(10) !== 0) return invalidFieldInCdb(10);
  const wp = checkWritable(ctx);
  if (wp !== undefined) return wp;
  const data = received(cmd, r);
  if (data.length === 0) return good();
  return writeBlocks(ctx, r, data);
};

/** ORWRITE (16) (SBC-3 §5.10): each block becomes the OR of its old contents and the data-out, atomically. */
export const orWrite: Handler = async (ctx, cmd) => {
  const r = prepare(ctx, cmd, MAX_TRANSFER_BLOCKS);
  if (!isRange(r)) return r;
  const wp = checkWritable(ctx);
  if (wp !== undefined) return wp;
  const data = received(cmd, r);
  if (data.length === 0) return good();
  const release = ctx.lock.tryAcquire(r.lba, r.blocks) ?? (await ctx.lock.acquire(r.lba, r.blocks));
  try {
    const merged = await ctx.device.readAt(r.lba * B, data.length);
    for (let i = 0; i < merged.length; i++) merged[i] = (merged[i] ?? 0) | (data[i] ?? 0);
    await ctx.device.writeAt(r.lba * B, merged, { fua: r.fua || !ctx.mode.wce });
    return good();
  } catch (err) {
    return senseForIoError(err, 'write');
  } finally {
    release();
  }
};
