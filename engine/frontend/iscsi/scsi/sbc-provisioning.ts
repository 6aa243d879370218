/**
 * SBC-3 capacity and thin-provisioning commands: READ CAPACITY (10)/(16), UNMAP, WRITE SAME (10)/(16)
 * with the UNMAP and NDOB bits, GET LBA STATUS, and READ DEFECT DATA (an empty list).
 */
import * as E from 'fp-ts/Either';
import { decodeBlockRange, decodeServiceActionIn16, decodeUnmap, readLength } from './cdb.ts';
import { checkProtect, checkRange, checkWritable } from './sbc-checks.ts';
import type { Handler } from './sbc.ts';
import { Asc, good, illegalRequest, taskAborted, invalidFieldInCdb, invalidFieldInParameterList, lbaOutOfRange, senseForIoError } from './sense.ts';
import { blockCount, LOGICAL_BLOCK_BYTES, MAX_UNMAP_BLOCKS, MAX_UNMAP_DESCRIPTORS, MAX_WRITE_SAME_BLOCKS, PHYSICAL_BLOCK_EXPONENT } from './unit-state.ts';

const B = LOGICAL_BLOCK_BYTES;
/** Largest buffer WRITE SAME writes in one device call. */
const WRITE_SAME_CHUNK_BLOCKS = 2048;

/** READ CAPACITY (10) (SBC-3 §5.15): PMI is obsolete, so a non-zero LBA field is invalid. */
export const readCapacity10: Handler = async (ctx, cmd) => {
  if (cmd.cdb.readUInt32BE(2) !== 0 && ((cmd.cdb[8] ?? 0) & 1) === 0) return invalidFieldInCdb(2);
  const b = Buffer.alloc(8);
  const last = blockCount(ctx) - 1;
  b.writeUInt32BE(last > 0xfffffffe ? 0xffffffff : last, 0); // RETURNED LOGICAL BLOCK ADDRESS
  b.writeUInt32BE(B, 4); // LOGICAL BLOCK LENGTH IN BYTES
  return good(b);
};

/** READ CAPACITY (16) (SBC-3 §5.16): thin provisioned (LBPME), unmapped reads zero (LBPRZ), 4 KiB physical. */
export const readCapacity16: Handler = async (ctx, cmd) => {
  const alloc = decodeServiceActionIn16(cmd.cdb).allocationLength;
  const b = Buffer.alloc(32);
  b.writeBigUInt64BE(BigInt(blockCount(ctx) - 1), 0); // RETURNED LOGICAL BLOCK ADDRESS
  b.writeUInt32BE(B, 8); // LOGICAL BLOCK LENGTH IN BYTES
  b[12] = 0x00; // P_TYPE, PROT_EN 0
  b[13] = PHYSICAL_BLOCK_EXPONENT; // P_I_EXPONENT 0, LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
  b[14] = 0x80 | 0x40; // LBPME, LBPRZ; LOWEST ALIGNED LOGICAL BLOCK ADDRESS 0
  return good(b.subarray(0, Math.min(alloc, b.length)));
};

/** Unmaps [lba, lba + blocks), or writes `block` over it in chunks; false when aborted part-way. */
async function fill(ctx: Parameters<Handler>[0], lba: number, blocks: number, block: Buffer | undefined, fua: boolean, signal: AbortSignal): Promise<boolean> {
  if (block === undefined) {
    await ctx.device.unmapAt(lba * B, blocks * B);
    return true;
  }
  const chunk = Buffer.concat(Array.from({ length: Math.min(blocks, WRITE_SAME_CHUNK_BLOCKS) }, () => block));
  for (let done = 0; done < blocks; ) {
    // A long WRITE SAME stops between chunks when task management aborts it.
    if (signal.aborted) return false;
    const n = Math.min(blocks - done, WRITE_SAME_CHUNK_BLOCKS);
    await ctx.device.writeAt((lba + done) * B, n * B === chunk.length ? chunk : chunk.subarray(0, n * B), { fua });
    done += n;
    // A device may complete writes synchronously (FileDevice): give the event loop a turn, so a
    // task management request (or another connection) gets in between the chunks.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return true;
}

/**
 * WRITE SAME (10)/(16) (SBC-3 §5.41, §5.42): one block of data-out (none with NDOB, which means
 * zeros) written to every block of the range. With UNMAP the range is unmapped whatever the data
 * (SBC-3 §5.42: the device server performs the unmap operation; unmapped blocks then read as zeros,
 * LBPRZ), as libiscsi's WriteSame*.UnmapUntilEnd expects.
 */
export const writeSame: Handler = async (ctx, cmd) => {
  const d = decodeBlockRange(cmd.cdb);
  if (E.isLeft(d)) return invalidFieldInCdb(d.left.byte, d.left.bit);
  const r = d.right;
  const lenByte = cmd.cdb.length >= 16 && r.opcode === 0x93 ? 10 : 7;
  const bad = checkProtect(r);
  if (bad !== undefined) return bad;
  if (r.anchor) return invalidFieldInCdb(1, 4); // ANC_SUP = 0
  const oob = checkRange(ctx, r.lba, r.blocks);
  if (oob !== undefined) return oob;
  // WSNZ = 0: NUMBER OF LOGICAL BLOCKS 0 means from the LBA to the last one (SBC-3 §5.42).
  const blocks = r.blocks === 0 ? blockCount(ctx) - r.lba : r.blocks;
  if (blocks > MAX_WRITE_SAME_BLOCKS) return invalidFieldInCdb(lenByte);
  if (blocks === 0) return good();
  const wp = checkWritable(ctx);
  if (wp !== undefined) return wp;
  let block: Buffer | undefined;
  if (r.ndob) {
    if (cmd.dataOut.length !== 0) return invalidFieldInCdb(1, 0);
    block = Buffer.alloc(B);
  } else {
    if (cmd.dataOut.length !== B) return invalidFieldInCdb(lenByte);
    block = cmd.dataOut;
  }
  const release = ctx.lock.tryAcquire(r.lba, blocks) ?? (await ctx.lock.acquire(r.lba, blocks));
  try {
    const finished = await fill(ctx, r.lba, blocks, r.unmap ? undefined : block, !ctx.mode.wce, cmd.signal);
    return finished ? good() : taskAborted;
  } catch (err) {
    return senseForIoError(err, 'write');
  } finally {
    release();
  }
};

/** UNMAP parameter list layout (SBC-3 §5.28.2). */
const UnmapList = { DataLength: 0, DescriptorDataLength: 2, Header: 8, DescriptorBytes: 16 } as const;

/** UNMAP (SBC-3 §5.28): every descriptor is checked before any block is unmapped. */
export const unmap: Handler = async (ctx, cmd) => {
  const q = decodeUnmap(cmd.cdb);
  if (q.anchor) return invalidFieldInCdb(1, 0); // ANC_SUP = 0
  const listLength = q.parameterListLength;
  if (listLength === 0) return good();
  if (listLength < UnmapList.Header || cmd.dataOut.length < UnmapList.Header) return illegalRequest(Asc.ParameterListLengthError);
  const list = cmd.dataOut.subarray(0, Math.min(listLength, cmd.dataOut.length));
  const descBytes = list.readUInt16BE(UnmapList.DescriptorDataLength);
  const count = Math.floor(Math.min(descBytes, list.length - UnmapList.Header) / UnmapList.DescriptorBytes);
  if (count > MAX_UNMAP_DESCRIPTORS) return invalidFieldInParameterList(UnmapList.DescriptorDataLength);
  const ranges: Array<{ lba: number; blocks: number }> = [];
  for (let i = 0; i < count; i++) {
    const off = UnmapList.Header + i * UnmapList.DescriptorBytes;
    const lba = Number(list.readBigUInt64BE(off));
    const blocks = list.readUInt32BE(off + 8);
    if (lba + blocks > blockCount(ctx)) return lbaOutOfRange(lba);
    if (blocks > MAX_UNMAP_BLOCKS) return invalidFieldInParameterList(off + 8);
    if (blocks > 0) ranges.push({ lba, blocks });
  }
  const wp = checkWritable(ctx);
  if (wp !== undefined) return wp;
  try {
    for (const r of ranges) {
      const release = ctx.lock.tryAcquire(r.lba, r.blocks) ?? (await ctx.lock.acquire(r.lba, r.blocks));
      try {
        await ctx.device.unmapAt(r.lba * B, r.blocks * B);
      } finally {
        release();
      }
    }
    return good();
  } catch (err) {
    return senseForIoError(err, 'write');
  }
};

/** Provisioning status values of an LBA status descriptor (SBC-3 table 41). */
const ProvisioningStatus = { Mapped: 0x0, Deallocated: 0x1 } as const;
/** How far one GET LBA STATUS looks ahead from the starting LBA. */
const LBA_STATUS_WINDOW_BLOCKS = 1 << 21;

/** GET LBA STATUS (SBC-3 §5.7): mapped and deallocated extents from the device's allocation map. */
export const getLbaStatus: Handler = async (ctx, cmd) => {
  const { lba, allocationLength: alloc } = decodeServiceActionIn16(cmd.cdb);
  const total = blockCount(ctx);
  if (lba >= total) return lbaOutOfRange(lba);
  const maxDescriptors = Math.max(1, Math.floor((alloc - 8) / 16));
  const end = Math.min(total, lba + LBA_STATUS_WINDOW_BLOCKS);
  let mapped: Array<{ offsetBytes: number; lengthBytes: number }>;
  try {
    mapped = ctx.device.mappedRanges !== undefined ? await ctx.device.mappedRanges(lba * B, (end - lba) * B) : [{ offsetBytes: lba * B, lengthBytes: (end - lba) * B }];
  } catch (err) {
    return senseForIoError(err, 'read');
  }
  const extents: Array<{ lba: number; blocks: number; status: number }> = [];
  let at = lba;
  const push = (from: number, to: number, status: number) => {
    if (to <= from) return;
    const last = extents[extents.length - 1];
    if (last !== undefined && last.status === status && last.lba + last.blocks === from) last.blocks += to - from;
    else extents.push({ lba: from, blocks: to - from, status });
  };
  for (const m of mapped) {
    // Mapping is tracked in 4 KiB units; a partly mapped logical block counts as mapped.
    const s = Math.max(lba, Math.floor(m.offsetBytes / B));
    const e = Math.min(end, Math.ceil((m.offsetBytes + m.lengthBytes) / B));
    push(at, s, ProvisioningStatus.Deallocated);
    push(Math.max(at, s), e, ProvisioningStatus.Mapped);
    at = Math.max(at, e);
  }
  push(at, end, ProvisioningStatus.Deallocated);
  const shown = extents.slice(0, maxDescriptors);
  const b = Buffer.alloc(8 + 16 * shown.length);
  b.writeUInt32BE(b.length - 4, 0); // PARAMETER DATA LENGTH
  shown.forEach((x, i) => {
    b.writeBigUInt64BE(BigInt(x.lba), 8 + 16 * i);
    b.writeUInt32BE(x.blocks, 16 + 16 * i);
    b[20 + 16 * i] = x.status;
  });
  return good(b.subarray(0, Math.min(alloc, b.length)));
};

/** READ DEFECT DATA (10)/(12) (SBC-3 §5.12, §5.13): a virtual disk has no defects, so the lists are empty. */
export const readDefectData: Handler = async (_ctx, cmd) => {
  const twelve = cmd.cdb[0] === 0xb7;
  const flags = (twelve ? cmd.cdb[1] : cmd.cdb[2]) ?? 0;
  const alloc = twelve ? readLength(cmd.cdb, 6, 4) : readLength(cmd.cdb, 7, 2);
  const b = Buffer.alloc(twelve ? 8 : 4);
  b[1] = flags & 0x1f; // PLISTV, GLISTV as requested (both lists exist and are empty), DEFECT LIST FORMAT echoed
  return good(b.subarray(0, Math.min(alloc, b.length)));
};
