/**
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 §6.4, §6.18): block-to-block copies inside this
 * logical unit, named by an identification descriptor target descriptor (E4h) that carries one of our
 * VPD 83h designators. Copies run synchronously; status is held per I_T nexus and list identifier
 * when LIST ID USAGE asks for it, and handed out once by RECEIVE COPY RESULTS (COPY STATUS).
 */
import { decodeThirdPartyCopy } from './cdb.ts';
import type { ScsiResult } from './logical-unit.ts';
import type { Handler } from './sbc.ts';
import { Asc, checkCondition, good, illegalRequest, invalidFieldInCdb, invalidFieldInParameterList, senseForIoError, SenseKey, taskAborted } from './sense.ts';
import { checkWritable } from './sbc-checks.ts';
import { blockCount, LOGICAL_BLOCK_BYTES, type UnitContext } from './unit-state.ts';

/** Limits reported by RECEIVE COPY RESULTS (OPERATING PARAMETERS). */
export const XcopyLimits = {
  maxTargetDescriptors: 2,
  maxSegmentDescriptors: 8,
  /** Bytes of target + segment descriptors. */
  maxDescriptorListLength: 320,
  /** Bytes one segment may copy (64 Ki blocks). */
  maxSegmentBytes: 65535 * LOGICAL_BLOCK_BYTES,
} as const;

/** Parameter list layout (SPC-4 table 106). */
const Header = { ListId: 0, Flags: 1, TargetListLength: 2, SegmentListLength: 8, InlineLength: 12, Bytes: 16 } as const;
const TARGET_DESCRIPTOR_BYTES = 32;
const IDENTIFICATION_TARGET = 0xe4; // Identification Descriptor target descriptor (SPC-4 §6.4.5.2)
const BLOCK_TO_BLOCK = 0x02; // block device to block device segment descriptor (SPC-4 §6.4.6.5)
const BLOCK_TO_BLOCK_BYTES = 28;
const COPY_CHUNK_BLOCKS = 2048;

/** List ID usage values (SPC-4 table 107). */
const ListIdUsage = { Hold: 0, NoHold: 2, NotUnique: 3 } as const;

/** Held status of one finished copy. */
interface CopyStatus {
  readonly ok: boolean;
  readonly segments: number;
  readonly bytes: number;
}

/** Held copy results, keyed by nexus and list identifier. */
export class CopyResults {
  private readonly held = new Map<string, CopyStatus>();

  hold(nexus: string, listId: number, s: CopyStatus): void {
    this.held.set(`${nexus}\0${listId}`, s);
  }

  take(nexus: string, listId: number): CopyStatus | undefined {
    const k = `${nexus}\0${listId}`;
    const s = this.held.get(k);
    this.held.delete(k);
    return s;
  }

  /** Drops what a nexus held (it logged out). */
  forget(nexus: string): void {
    for (const k of [...this.held.keys()]) if (k.startsWith(`${nexus}\0`)) this.held.delete(k);
  }
}

const copyAborted = (asc: readonly [number, number]): ScsiResult => checkCondition({ key: SenseKey.CopyAborted, asc });

interface Segment {
  readonly src: number;
  readonly dst: number;
  readonly srcLba: number;
  readonly dstLba: number;
  readonly blocks: number;
}

/** Checks that a target descriptor names this logical unit. */
function resolvesToUs(ctx: UnitContext, d: Buffer): boolean {
  const type = (d[5] ?? 0) & 0x0f;
  const len = d[7] ?? 0;
  const value = d.subarray(8, 8 + Math.min(len, 20));
  if (type === 3) return value.equals(ctx.identity.naa);
  if (type === 2) return value.equals(ctx.identity.eui64);
  return false;
}

/** Validates the parameter list; returns the segments or the failure to report. */
function parse(ctx: UnitContext, p: Buffer): Segment[] | ScsiResult {
  const tdl = p.readUInt16BE(Header.TargetListLength);
  const sdl = p.readUInt32BE(Header.SegmentListLength);
  const inline = p.readUInt32BE(Header.InlineLength);
  if (Header.Bytes + tdl + sdl + inline > p.length) return illegalRequest(Asc.ParameterListLengthError);
  if (tdl + sdl > XcopyLimits.maxDescriptorListLength) return illegalRequest(Asc.ParameterListLengthError);
  if (tdl % TARGET_DESCRIPTOR_BYTES !== 0) return illegalRequest(Asc.ParameterListLengthError);
  const targets = tdl / TARGET_DESCRIPTOR_BYTES;
  if (targets > XcopyLimits.maxTargetDescriptors) return illegalRequest(Asc.TooManyTargetDescriptors);
  const ours: boolean[] = [];
  for (let i = 0; i < targets; i++) {
    const off = Header.Bytes + i * TARGET_DESCRIPTOR_BYTES;
    const d = p.subarray(off, off + TARGET_DESCRIPTOR_BYTES);
    if (d[0] !== IDENTIFICATION_TARGET) return illegalRequest(Asc.UnsupportedTargetDescriptorTypeCode);
    const flags = d[1] ?? 0;
    // LU ID TYPE is not checked: the designator alone names the unit (libiscsi 1.19's ValidTgtDescr
    // expects a reserved LU ID TYPE to be accepted; later versions expect INVALID FIELD IN CDB).
    // NUL: the descriptor names no device, so a copy to or from it cannot reach anything.
    ours.push((flags & 0x20) === 0 && (flags & 0x1f) === 0 && resolvesToUs(ctx, d));
  }
  const segments: Segment[] = [];
  let off = Header.Bytes + tdl;
  const end = off + sdl;
  while (off < end) {
    const type = p[off] ?? 0;
    if (type !== BLOCK_TO_BLOCK) return illegalRequest(Asc.UnsupportedSegmentDescriptorTypeCode);
    if (off + BLOCK_TO_BLOCK_BYTES > end) return illegalRequest(Asc.ParameterListLengthError);
    if (segments.length === XcopyLimits.maxSegmentDescriptors) return illegalRequest(Asc.TooManySegmentDescriptors);
    segments.push({
      src: p.readUInt16BE(off + 4),
      dst: p.readUInt16BE(off + 6),
      blocks: p.readUInt16BE(off + 10),
      srcLba: Number(p.readBigUInt64BE(off + 12)),
      dstLba: Number(p.readBigUInt64BE(off + 20)),
    });
    off += BLOCK_TO_BLOCK_BYTES;
  }
  for (const s of segments) {
    if (ours[s.src] !== true || ours[s.dst] !== true) return copyAborted(Asc.CopyTargetDeviceNotReachable);
  }
  return segments;
}

async function copySegment(ctx: UnitContext, s: Segment): Promise<void> {
  const B = LOGICAL_BLOCK_BYTES;
  for (let done = 0; done < s.blocks; ) {
    const n = Math.min(COPY_CHUNK_BLOCKS, s.blocks - done);
    const data = await ctx.device.readAt((s.srcLba + done) * B, n * B);
    const release = ctx.lock.tryAcquire(s.dstLba + done, n) ?? (await ctx.lock.acquire(s.dstLba + done, n));
    try {
      await ctx.device.writeAt((s.dstLba + done) * B, data, { fua: !ctx.mode.wce });
    } finally {
      release();
    }
    done += n;
  }
}

/** EXTENDED COPY (LID1). */
export const extendedCopy: Handler = async (ctx, cmd) => {
  const results = ctx.copyResults;
  const listLength = decodeThirdPartyCopy(cmd.cdb).length;
  if (listLength === 0) return good(); // SPC-4 §6.4.1: a zero-length list is not an error
  if (listLength < Header.Bytes || cmd.dataOut.length < listLength) return illegalRequest(Asc.ParameterListLengthError);
  const p = cmd.dataOut.subarray(0, listLength);
  const usage = ((p[Header.Flags] ?? 0) >> 3) & 0x03;
  if (usage === 1) return invalidFieldInParameterList(Header.Flags, 4);
  const parsed = parse(ctx, p);
  if (!Array.isArray(parsed)) return parsed;
  const wp = checkWritable(ctx);
  if (wp !== undefined) return wp;
  const total = blockCount(ctx);
  for (const s of parsed) {
    if (s.srcLba + s.blocks > total || s.dstLba + s.blocks > total) return copyAborted(Asc.NoAdditionalSense);
  }
  let bytes = 0;
  let segments = 0;
  try {
    for (const s of parsed) {
      if (cmd.signal.aborted) return taskAborted;
      await copySegment(ctx, s);
      bytes += s.blocks * LOGICAL_BLOCK_BYTES;
      segments++;
    }
  } catch (err) {
    if (usage === ListIdUsage.Hold) results.hold(cmd.nexus.initiatorPort, p[Header.ListId] ?? 0, { ok: false, segments, bytes });
    return senseForIoError(err, 'write');
  }
  if (usage === ListIdUsage.Hold) results.hold(cmd.nexus.initiatorPort, p[Header.ListId] ?? 0, { ok: true, segments, bytes });
  return good();
};

/** RECEIVE COPY RESULTS service actions (SPC-4 table 131). */
const Rcr = { CopyStatus: 0x00, OperatingParameters: 0x03 } as const;

function operatingParameters(): Buffer {
  const implemented = [BLOCK_TO_BLOCK, IDENTIFICATION_TARGET];
  const b = Buffer.alloc(44 + implemented.length);
  b.writeUInt32BE(b.length - 4, 0); // AVAILABLE DATA
  b.writeUInt16BE(XcopyLimits.maxTargetDescriptors, 8); // MAXIMUM TARGET DESCRIPTOR COUNT
  b.writeUInt16BE(XcopyLimits.maxSegmentDescriptors, 10); // MAXIMUM SEGMENT DESCRIPTOR COUNT
  b.writeUInt32BE(XcopyLimits.maxDescriptorListLength, 12); // MAXIMUM DESCRIPTOR LIST LENGTH
  b.writeUInt32BE(XcopyLimits.maxSegmentBytes, 16); // MAXIMUM SEGMENT LENGTH
  b.writeUInt32BE(0, 20); // MAXIMUM INLINE DATA LENGTH: no inline data
  b.writeUInt32BE(0, 24); // HELD DATA LIMIT: no held data (only status)
  b.writeUInt16BE(1, 34); // TOTAL CONCURRENT COPIES
  b[36] = 1; // MAXIMUM CONCURRENT COPIES
  b[37] = 9; // DATA SEGMENT GRANULARITY: 2^9 = one logical block
  b[43] = implemented.length; // IMPLEMENTED DESCRIPTOR LIST LENGTH
  implemented.forEach((c, i) => (b[44 + i] = c));
  return b;
}

/** RECEIVE COPY RESULTS: COPY STATUS and OPERATING PARAMETERS. */
export const receiveCopyResults: Handler = async (ctx, cmd) => {
  const results = ctx.copyResults;
  const q = decodeThirdPartyCopy(cmd.cdb);
  const alloc = q.length;
  const cut = (b: Buffer) => good(b.length > alloc ? b.subarray(0, alloc) : b);
  switch (q.serviceAction) {
    case Rcr.OperatingParameters:
      return cut(operatingParameters());
    case Rcr.CopyStatus: {
      const s = results.take(cmd.nexus.initiatorPort, q.listId);
      // No operation with this list identifier: INVALID FIELD IN CDB on LIST IDENTIFIER (SPC-4 §6.18.2).
      if (s === undefined) return invalidFieldInCdb(2);
      const b = Buffer.alloc(12);
      b.writeUInt32BE(8, 0); // AVAILABLE DATA
      b[4] = s.ok ? 0x01 : 0x02; // COPY MANAGER STATUS: completed without / with errors
      b.writeUInt16BE(s.segments, 5); // SEGMENTS PROCESSED
      b[7] = 0x00; // TRANSFER COUNT UNITS: bytes
      b.writeUInt32BE(Math.min(s.bytes, 0xffffffff), 8); // TRANSFER COUNT
      return cut(b);
    }
    default:
      return invalidFieldInCdb(1, 4);
  }
};

/** The Third-party Copy VPD page body (SPC-4 §7.8.17): a Supported Commands descriptor. */
export function thirdPartyCopyPage(): Buffer {
  const commands = Buffer.from([
    0x83, 1, 0x00, // EXTENDED COPY: LID1
    0x84, 2, 0x00, 0x03, // RECEIVE COPY RESULTS: COPY STATUS, OPERATING PARAMETERS
  ]);
  const body = Buffer.concat([Buffer.from([commands.length]), commands]);
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0x0001, 0); // DESCRIPTOR TYPE: Supported Commands
  head.writeUInt16BE(padded.length, 2); // DESCRIPTOR LENGTH
  return Buffer.concat([head, padded]);
}
