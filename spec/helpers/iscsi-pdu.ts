import { BHS_LENGTH, Bhs, Bit, padOf, writeLun } from '../../engine/frontend/iscsi/pdu/bhs.ts';
import { crc32c, crc32cUpdate, writeDigest } from '../../engine/frontend/iscsi/pdu/digest.ts';
import { NO_TAG, Opcode } from '../../engine/frontend/iscsi/pdu/opcodes.ts';
import { encodeTextPairs, type TextPair } from '../../engine/frontend/iscsi/pdu/text.ts';

/**
 * Builders for the PDUs an initiator sends (RFC 7143 §11), in the target code's vocabulary, for
 * tests and the test initiator. Each returns the whole PDU as it goes on the wire.
 */

/** Digests to add when framing. */
export interface Digests {
  readonly header?: boolean;
  readonly data?: boolean;
}

/** Frames a BHS (+AHS) and a data segment: digests and padding included. */
export function frame(bhs: Buffer, data: Buffer = Buffer.alloc(0), d: Digests = {}, ahs: Buffer = Buffer.alloc(0)): Buffer {
  bhs[Bhs.TotalAhsLength] = ahs.length / 4;
  bhs.writeUIntBE(data.length, Bhs.DataSegmentLength, 3);
  const parts: Buffer[] = [bhs, ahs];
  if (d.header === true) {
    const h = Buffer.alloc(4);
    writeDigest(h, 0, crc32c(Buffer.concat([bhs, ahs])));
    parts.push(h);
  }
  if (data.length > 0) {
    const pad = Buffer.alloc(padOf(data.length));
    parts.push(data, pad);
    if (d.data === true) {
      const dd = Buffer.alloc(4);
      writeDigest(dd, 0, crc32cUpdate(crc32c(data), pad));
      parts.push(dd);
    }
  }
  return Buffer.concat(parts);
}

function bhs(opcode: number, flags: number, itt: number): Buffer {
  const b = Buffer.alloc(BHS_LENGTH);
  b[0] = opcode;
  b[1] = flags;
  b.writeUInt32BE(itt >>> 0, Bhs.Itt);
  return b;
}

/** Login Request fields. */
export interface LoginFields {
  transit?: boolean;
  cont?: boolean;
  csg: number;
  nsg: number;
  isid?: string;
  tsih?: number;
  itt?: number;
  cid?: number;
  cmdSn?: number;
  expStatSn?: number;
  versionMax?: number;
  versionMin?: number;
  pairs?: readonly TextPair[];
}

/** Login Request header (RFC 7143 §11.12). */
export function loginBhs(f: LoginFields): Buffer {
  const flags = (f.transit === true ? Bit.Transit : 0) | (f.cont === true ? Bit.Continue : 0) | (f.csg << 2) | (f.transit === true ? f.nsg : 0);
  const b = bhs(Opcode.LoginRequest | Bit.Immediate, flags, f.itt ?? 0);
  b[2] = f.versionMax ?? 0;
  b[3] = f.versionMin ?? 0;
  Buffer.from(f.isid ?? '400001370000', 'hex').copy(b, 8);
  b.writeUInt16BE(f.tsih ?? 0, 14);
  b.writeUInt16BE(f.cid ?? 0, 20);
  b.writeUInt32BE((f.cmdSn ?? 1) >>> 0, 24);
  b.writeUInt32BE((f.expStatSn ?? 0) >>> 0, 28);
  return b;
}

/** A whole Login Request PDU. */
export function login(f: LoginFields): Buffer {
  return frame(loginBhs(f), encodeTextPairs(f.pairs ?? []));
}

/** SCSI Command fields. */
export interface ScsiCommandFields {
  itt: number;
  cmdSn: number;
  expStatSn?: number;
  cdb: Buffer;
  read?: boolean;
  write?: boolean;
  final?: boolean;
  immediate?: boolean;
  attr?: number;
  lun?: number;
  expectedLength: number;
  data?: Buffer;
}

/** SCSI Command header (RFC 7143 §11.3); CDBs up to 16 bytes. */
export function scsiCommandBhs(f: ScsiCommandFields): Buffer {
  const flags = (f.final === false ? 0 : Bit.Final) | (f.read === true ? Bit.Read : 0) | (f.write === true ? Bit.Write : 0) | (f.attr ?? 1);
  const b = bhs(Opcode.ScsiCommand | (f.immediate === true ? Bit.Immediate : 0), flags, f.itt);
  writeLun(b, f.lun ?? 0);
  b.writeUInt32BE(f.expectedLength >>> 0, 20);
  b.writeUInt32BE(f.cmdSn >>> 0, 24);
  b.writeUInt32BE((f.expStatSn ?? 0) >>> 0, 28);
  f.cdb.copy(b, 32, 0, Math.min(16, f.cdb.length));
  return b;
}

/** A whole SCSI Command PDU (immediate data in `data`). */
export function scsiCommand(f: ScsiCommandFields, d: Digests = {}): Buffer {
  return frame(scsiCommandBhs(f), f.data, d);
}

/** A Data-Out PDU (RFC 7143 §11.7). */
export function dataOut(f: { itt: number; ttt?: number; lun?: number; final: boolean; dataSn: number; offset: number; expStatSn?: number; data: Buffer }, d: Digests = {}): Buffer {
  const b = bhs(Opcode.DataOut, f.final ? Bit.Final : 0, f.itt);
  writeLun(b, f.lun ?? 0);
  b.writeUInt32BE((f.ttt ?? NO_TAG) >>> 0, 20);
  b.writeUInt32BE((f.expStatSn ?? 0) >>> 0, 28);
  b.writeUInt32BE(f.dataSn >>> 0, 36);
  b.writeUInt32BE(f.offset >>> 0, 40);
  return frame(b, f.data, d);
}

/** A NOP-Out PDU (RFC 7143 §11.18). */
export function nopOut(f: { itt: number; ttt?: number; cmdSn: number; immediate?: boolean; data?: Buffer; expStatSn?: number }, d: Digests = {}): Buffer {
  const b = bhs(Opcode.NopOut | (f.immediate === true ? Bit.Immediate : 0), Bit.Final, f.itt);
  b.writeUInt32BE((f.ttt ?? NO_TAG) >>> 0, 20);
  b.writeUInt32BE(f.cmdSn >>> 0, 24);
  b.writeUInt32BE((f.expStatSn ?? 0) >>> 0, 28);
  return frame(b, f.data, d);
}

/** A Text Request PDU (RFC 7143 §11.10). */
export function text(f: { itt: number; cmdSn: number; immediate?: boolean; pairs: readonly TextPair[]; expStatSn?: number }, d: Digests = {}): Buffer {
  const b = bhs(Opcode.TextRequest | (f.immediate === true ? Bit.Immediate : 0), Bit.Final, f.itt);
  b.writeUInt32BE(NO_TAG, 20);
  b.writeUInt32BE(f.cmdSn >>> 0, 24);
  b.writeUInt32BE((f.expStatSn ?? 0) >>> 0, 28);
  return frame(b, encodeTextPairs(f.pairs), d);
}

/** A Logout Request PDU (RFC 7143 §11.14). */
export function logout(f: { itt: number; cmdSn: number; reason?: number; cid?: number; immediate?: boolean; expStatSn?: number }, d: Digests = {}): Buffer {
  const b = bhs(Opcode.LogoutRequest | (f.immediate === true ? Bit.Immediate : 0), Bit.Final | (f.reason ?? 0), f.itt);
  b.writeUInt16BE(f.cid ?? 0, 20);
  b.writeUInt32BE(f.cmdSn >>> 0, 24);
  b.writeUInt32BE((f.expStatSn ?? 0) >>> 0, 28);
  return frame(b, undefined, d);
}

/** A Task Management Function Request PDU (RFC 7143 §11.5). */
export function tmf(f: { itt: number; cmdSn: number; fn: number; lun?: number; rtt?: number; refCmdSn?: number; immediate?: boolean; expStatSn?: number }, d: Digests = {}): Buffer {
  const b = bhs(Opcode.TaskMgmtRequest | (f.immediate === false ? 0 : Bit.Immediate), Bit.Final | f.fn, f.itt);
  writeLun(b, f.lun ?? 0);
  b.writeUInt32BE((f.rtt ?? NO_TAG) >>> 0, 20);
  b.writeUInt32BE(f.cmdSn >>> 0, 24);
  b.writeUInt32BE((f.expStatSn ?? 0) >>> 0, 28);
  b.writeUInt32BE((f.refCmdSn ?? 0) >>> 0, 32);
  return frame(b, undefined, d);
}

/** A SNACK Request PDU (RFC 7143 §11.16). */
export function snack(f: { itt: number; type?: number }, d: Digests = {}): Buffer {
  return frame(bhs(Opcode.SnackRequest, Bit.Final | (f.type ?? 0), f.itt), undefined, d);
}

/** A target PDU as the test reads it: raw BHS plus the common fields. */
export interface TargetPdu {
  readonly opcode: number;
  readonly flags: number;
  readonly bhs: Buffer;
  readonly data: Buffer;
  readonly itt: number;
  readonly statSn: number;
  readonly expCmdSn: number;
  readonly maxCmdSn: number;
}

/** Reads the fields tests look at from a received target PDU. */
export function readTargetPdu(b: Buffer, data: Buffer): TargetPdu {
  return {
    opcode: (b[0] as number) & 0x3f,
    flags: b[1] as number,
    bhs: Buffer.from(b),
    data: Buffer.from(data),
    itt: b.readUInt32BE(16),
    statSn: b.readUInt32BE(24),
    expCmdSn: b.readUInt32BE(28),
    maxCmdSn: b.readUInt32BE(32),
  };
}

/** READ (16) / WRITE (16) CDBs. */
export function rw16(op: 'read' | 'write', lba: number, blocks: number): Buffer {
  const c = Buffer.alloc(16);
  c[0] = op === 'read' ? 0x88 : 0x8a;
  c.writeBigUInt64BE(BigInt(lba), 2);
  c.writeUInt32BE(blocks, 10);
  return c;
}
