/**
 * Pure CDB decoders (SPC-4 §4.2, SBC-3 §5): each names the offsets it reads and returns Either a
 * decoded command or the field to blame in INVALID FIELD IN CDB sense data.
 */
import * as E from 'fp-ts/Either';
import { Op } from './opcodes.ts';

/** A field of the CDB that is invalid (→ ILLEGAL REQUEST / INVALID FIELD IN CDB with a field pointer). */
export interface InvalidCdbField {
  readonly _tag: 'InvalidCdbField';
  readonly byte: number;
  readonly bit?: number;
}

/** Blames a byte (and bit) of the CDB. */
export function invalidField(byte: number, bit?: number): InvalidCdbField {
  return bit === undefined ? { _tag: 'InvalidCdbField', byte } : { _tag: 'InvalidCdbField', byte, bit };
}

/** Common offsets of the direct-access CDB layouts (SBC-3 §4.2.2). */
const Layout = {
  Flags: 1, // RDPROTECT/WRPROTECT/VRPROTECT (7-5), DPO (4), FUA (3), BYTCHK (2-1) / UNMAP (3), NDOB (0)
  Lba: 2, // LOGICAL BLOCK ADDRESS (4 bytes in 10/12-byte CDBs, 8 bytes in 16-byte CDBs)
  Length10: 7, // TRANSFER LENGTH (2 bytes)
  Length12: 6, // TRANSFER LENGTH (4 bytes)
  Length16: 10, // TRANSFER LENGTH (4 bytes)
  Lba6: 1, // READ/WRITE (6): LBA in the low 21 bits of bytes 1-3
  Length6: 4, // READ/WRITE (6): TRANSFER LENGTH, 0 means 256
  CawLength: 13, // COMPARE AND WRITE: NUMBER OF LOGICAL BLOCKS (1 byte)
  AtomicBoundary: 10, // WRITE ATOMIC (16): ATOMIC BOUNDARY (2 bytes)
  AtomicLength: 12, // WRITE ATOMIC (16): TRANSFER LENGTH (2 bytes)
} as const;

const CDB_LENGTH_BY_GROUP = [6, 10, 10, 0, 16, 12, 0, 0] as const;

/** The CDB length implied by the opcode's group code (SPC-4 §4.2.5.1); 0 for vendor-specific groups. */
export function cdbLength(opcode: number): number {
  return CDB_LENGTH_BY_GROUP[opcode >> 5] ?? 0;
}

/** A decoded direct-access command that addresses a range of logical blocks. */
export interface BlockRange {
  readonly opcode: number;
  /** First logical block (a float beyond 2^53: only compared against capacity, which is far smaller). */
  readonly lba: number;
  readonly blocks: number;
  /** RDPROTECT / WRPROTECT / VRPROTECT (bits 7-5 of byte 1); no protection information is supported. */
  readonly protect: number;
  readonly dpo: boolean;
  readonly fua: boolean;
  /** VERIFY / WRITE AND VERIFY: BYTCHK (bits 2-1 of byte 1). */
  readonly bytchk: number;
  /** WRITE SAME: UNMAP bit; NDOB bit (WRITE SAME 16 only); ANCHOR bit. */
  readonly unmap: boolean;
  readonly ndob: boolean;
  readonly anchor: boolean;
  /** Byte 1 bit 1: IMMED for SYNCHRONIZE CACHE / PRE-FETCH. */
  readonly immed: boolean;
}

function lbaAndLength(cdb: Buffer): { lba: number; blocks: number } | undefined {
  switch (cdb[0]) {
    case Op.Read6:
    case Op.Write6: {
      const lba = cdb.readUIntBE(Layout.Lba6, 3) & 0x1fffff;
      const n = cdb[Layout.Length6] ?? 0;
      return { lba, blocks: n === 0 ? 256 : n };
    }
    case Op.CompareAndWrite:
      return { lba: Number(cdb.readBigUInt64BE(Layout.Lba)), blocks: cdb[Layout.CawLength] ?? 0 };
    case Op.WriteAtomic16:
      return { lba: Number(cdb.readBigUInt64BE(Layout.Lba)), blocks: cdb.readUInt16BE(Layout.AtomicLength) };
    default:
      break;
  }
  switch (cdbLength(cdb[0] ?? 0)) {
    case 10:
      return { lba: cdb.readUInt32BE(Layout.Lba), blocks: cdb.readUInt16BE(Layout.Length10) };
    case 12:
      return { lba: cdb.readUInt32BE(Layout.Lba), blocks: cdb.readUInt32BE(Layout.Length12) };
    case 16:
      return { lba: Number(cdb.readBigUInt64BE(Layout.Lba)), blocks: cdb.readUInt32BE(Layout.Length16) };
    default:
      return undefined;
  }
}

/** Decodes READ/WRITE/VERIFY/WRITE AND VERIFY/WRITE SAME/PRE-FETCH/SYNCHRONIZE CACHE/COMPARE AND WRITE. */
export function decodeBlockRange(cdb: Buffer): E.Either<InvalidCdbField, BlockRange> {
  const opcode = cdb[0] ?? 0;
  const need = cdbLength(opcode);
  if (need === 0 || cdb.length < need) return E.left(invalidField(0));
  const range = lbaAndLength(cdb);
  if (range === undefined) return E.left(invalidField(0));
  const six = opcode === Op.Read6 || opcode === Op.Write6;
  const flags = six ? 0 : (cdb[Layout.Flags] ?? 0);
  return E.right({
    opcode,
    lba: range.lba,
    blocks: range.blocks,
    protect: flags >> 5,
    dpo: (flags & 0x10) !== 0,
    fua: (flags & 0x08) !== 0,
    bytchk: (flags >> 1) & 0x03,
    unmap: (flags & 0x08) !== 0,
    ndob: opcode === Op.WriteSame16 && (flags & 0x01) !== 0,
    anchor: (flags & 0x10) !== 0,
    immed: (flags & 0x02) !== 0,
  });
}

/** Reads an allocation length (or parameter list length) of `width` bytes at `offset`. */
export function readLength(cdb: Buffer, offset: number, width: 1 | 2 | 4): number {
  if (cdb.length < offset + width) return 0;
  return width === 1 ? (cdb[offset] ?? 0) : width === 2 ? cdb.readUInt16BE(offset) : cdb.readUInt32BE(offset);
}

/** INQUIRY (SPC-4 §6.6): EVPD, PAGE CODE, ALLOCATION LENGTH. */
export interface InquiryCdb {
  readonly evpd: boolean;
  readonly pageCode: number;
  readonly allocationLength: number;
}

const InquiryLayout = { Flags: 1, PageCode: 2, AllocationLength: 3 } as const;

/** Decodes INQUIRY; a page code without EVPD, or CMDDT, is an invalid field. */
export function decodeInquiry(cdb: Buffer): E.Either<InvalidCdbField, InquiryCdb> {
  const flags = cdb[InquiryLayout.Flags] ?? 0;
  const evpd = (flags & 0x01) !== 0;
  const pageCode = cdb[InquiryLayout.PageCode] ?? 0;
  if ((flags & 0x02) !== 0) return E.left(invalidField(InquiryLayout.Flags, 1)); // CMDDT (obsolete)
  if (!evpd && pageCode !== 0) return E.left(invalidField(InquiryLayout.PageCode));
  return E.right({ evpd, pageCode, allocationLength: readLength(cdb, InquiryLayout.AllocationLength, 2) });
}

/** MODE SENSE (6)/(10) (SPC-4 §6.11, §6.12). */
export interface ModeSenseCdb {
  readonly ten: boolean;
  readonly dbd: boolean;
  readonly llbaa: boolean;
  /** PC: 0 current, 1 changeable, 2 default, 3 saved. */
  readonly pageControl: number;
  readonly pageCode: number;
  readonly subpageCode: number;
  readonly allocationLength: number;
}

/** Decodes MODE SENSE (6) and (10). */
export function decodeModeSense(cdb: Buffer): ModeSenseCdb {
  const ten = cdb[0] === Op.ModeSense10;
  const flags = cdb[1] ?? 0;
  const page = cdb[2] ?? 0;
  return {
    ten,
    dbd: (flags & 0x08) !== 0,
    llbaa: ten && (flags & 0x10) !== 0,
    pageControl: page >> 6,
    pageCode: page & 0x3f,
    subpageCode: cdb[3] ?? 0,
    allocationLength: ten ? readLength(cdb, 7, 2) : readLength(cdb, 4, 1),
  };
}

/** MODE SELECT (6)/(10): PF, SP, PARAMETER LIST LENGTH. */
export interface ModeSelectCdb {
  readonly ten: boolean;
  readonly pf: boolean;
  readonly sp: boolean;
  readonly parameterListLength: number;
}

/** Decodes MODE SELECT (6) and (10). */
export function decodeModeSelect(cdb: Buffer): ModeSelectCdb {
  const ten = cdb[0] === Op.ModeSelect10;
  const flags = cdb[1] ?? 0;
  return { ten, pf: (flags & 0x10) !== 0, sp: (flags & 0x01) !== 0, parameterListLength: ten ? readLength(cdb, 7, 2) : readLength(cdb, 4, 1) };
}

/** Reads the service action field (byte 1, bits 4-0). */
export function serviceAction(cdb: Buffer): number {
  return (cdb[1] ?? 0) & 0x1f;
}

/** REQUEST SENSE (SPC-4 §6.29): DESC (byte 1 bit 0), ALLOCATION LENGTH (byte 4). */
export function decodeRequestSense(cdb: Buffer): { readonly desc: boolean; readonly allocationLength: number } {
  return { desc: ((cdb[1] ?? 0) & 0x01) !== 0, allocationLength: readLength(cdb, 4, 1) };
}

/** REPORT LUNS (SPC-4 §6.33): SELECT REPORT (byte 2), ALLOCATION LENGTH (bytes 6-9). */
export function decodeReportLuns(cdb: Buffer): { readonly selectReport: number; readonly allocationLength: number } {
  return { selectReport: cdb[2] ?? 0, allocationLength: readLength(cdb, 6, 4) };
}

/** START STOP UNIT (SBC-3 §5.25): byte 4 is POWER CONDITION (7-4), NO_FLUSH (2), LOEJ (1), START (0). */
export function decodeStartStopUnit(cdb: Buffer): { readonly powerCondition: number; readonly noFlush: boolean; readonly loej: boolean; readonly start: boolean } {
  const b = cdb[4] ?? 0;
  return { powerCondition: b >> 4, noFlush: (b & 0x04) !== 0, loej: (b & 0x02) !== 0, start: (b & 0x01) !== 0 };
}

/** PREVENT ALLOW MEDIUM REMOVAL (SPC-4 §6.15): PREVENT (byte 4 bits 1-0). */
export function decodePreventAllow(cdb: Buffer): { readonly prevent: number } {
  return { prevent: (cdb[4] ?? 0) & 0x03 };
}

/** PERSISTENT RESERVE IN (SPC-4 §6.13): SERVICE ACTION (byte 1), ALLOCATION LENGTH (bytes 7-8). */
export function decodePrIn(cdb: Buffer): { readonly serviceAction: number; readonly allocationLength: number } {
  return { serviceAction: serviceAction(cdb), allocationLength: readLength(cdb, 7, 2) };
}

/** PERSISTENT RESERVE OUT (SPC-4 §6.14): SERVICE ACTION, SCOPE (byte 2 bits 7-4), TYPE (bits 3-0), PARAMETER LIST LENGTH (bytes 5-8). */
export function decodePrOut(cdb: Buffer): { readonly serviceAction: number; readonly scope: number; readonly type: number; readonly parameterListLength: number } {
  const st = cdb[2] ?? 0;
  return { serviceAction: serviceAction(cdb), scope: st >> 4, type: st & 0x0f, parameterListLength: readLength(cdb, 5, 4) };
}

/** REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35): RCTD and REPORTING OPTIONS (byte 2), REQUESTED OPERATION CODE (3), REQUESTED SERVICE ACTION (4-5), ALLOCATION LENGTH (6-9). */
export function decodeRsoc(cdb: Buffer): { readonly rctd: boolean; readonly options: number; readonly opcode: number; readonly serviceAction: number; readonly allocationLength: number } {
  const b2 = cdb[2] ?? 0;
  return { rctd: (b2 & 0x80) !== 0, options: b2 & 0x07, opcode: cdb[3] ?? 0, serviceAction: readLength(cdb, 4, 2), allocationLength: readLength(cdb, 6, 4) };
}

/** SERVICE ACTION IN (16) commands (READ CAPACITY (16), GET LBA STATUS): LBA (bytes 2-9), ALLOCATION LENGTH (bytes 10-13). */
export function decodeServiceActionIn16(cdb: Buffer): { readonly lba: number; readonly allocationLength: number } {
  return { lba: cdb.length >= 10 ? Number(cdb.readBigUInt64BE(2)) : 0, allocationLength: readLength(cdb, 10, 4) };
}

/** UNMAP (SBC-3 §5.28): ANCHOR (byte 1 bit 0), PARAMETER LIST LENGTH (bytes 7-8). */
export function decodeUnmap(cdb: Buffer): { readonly anchor: boolean; readonly parameterListLength: number } {
  return { anchor: ((cdb[1] ?? 0) & 0x01) !== 0, parameterListLength: readLength(cdb, 7, 2) };
}

/** EXTENDED COPY and RECEIVE COPY RESULTS (SPC-4 §6.4, §6.18): LIST IDENTIFIER (byte 2), length (bytes 10-13). */
export function decodeThirdPartyCopy(cdb: Buffer): { readonly serviceAction: number; readonly listId: number; readonly length: number } {
  return { serviceAction: serviceAction(cdb), listId: cdb[2] ?? 0, length: readLength(cdb, 10, 4) };
}
