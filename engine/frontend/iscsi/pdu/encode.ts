import { BHS_LENGTH, Bhs, Bit, DataField, LoginField, LogoutField, NopField, R2tField, RejectField, ScsiResponseField, TextField, TmfField, writeLun } from './bhs.ts';
import { NO_TAG, Opcode } from './opcodes.ts';

/**
 * Encoders for the PDUs a target sends (RFC 7143 §11). Each returns the 48-byte BHS with
 * DataSegmentLength filled in; the connection appends digests, the data segment and its padding.
 */

/** Sequence numbers every target response carries. */
export interface SnFields {
  readonly statSn: number;
  readonly expCmdSn: number;
  readonly maxCmdSn: number;
}

function header(opcode: number, flags: number, dataLength: number, itt: number): Buffer {
  // allocUnsafe draws from Node's pool (cheap for 48 bytes); every byte is then zeroed or set.
  const b = Buffer.allocUnsafe(BHS_LENGTH).fill(0);
  b[Bhs.Opcode] = opcode;
  b[Bhs.Flags] = flags;
  b.writeUIntBE(dataLength, Bhs.DataSegmentLength, 3);
  b.writeUInt32BE(itt >>> 0, Bhs.Itt);
  return b;
}

function writeSn(b: Buffer, sn: SnFields, at: { statSn: number; expCmdSn: number; maxCmdSn: number }): void {
  b.writeUInt32BE(sn.statSn >>> 0, at.statSn);
  b.writeUInt32BE(sn.expCmdSn >>> 0, at.expCmdSn);
  b.writeUInt32BE(sn.maxCmdSn >>> 0, at.maxCmdSn);
}

const RESPONSE_SN = { statSn: 24, expCmdSn: 28, maxCmdSn: 32 } as const;

/** SCSI Response (RFC 7143 §11.4); data is the sense segment (2-byte SenseLength + sense). */
export function encodeScsiResponse(f: SnFields & { itt: number; status: number; response?: number; dataLength: number; expDataSn: number; overflow?: number; underflow?: number }): Buffer {
  let flags = Bit.Final;
  let residual = 0;
  if (f.overflow !== undefined && f.overflow > 0) {
    flags |= Bit.Overflow;
    residual = f.overflow;
  } else if (f.underflow !== undefined && f.underflow > 0) {
    flags |= Bit.Underflow;
    residual = f.underflow;
  }
  const b = header(Opcode.ScsiResponse, flags, f.dataLength, f.itt);
  b[ScsiResponseField.Response] = f.response ?? 0;
  b[ScsiResponseField.Status] = f.status;
  writeSn(b, f, RESPONSE_SN);
  b.writeUInt32BE(f.expDataSn >>> 0, ScsiResponseField.ExpDataSn);
  b.writeUInt32BE(residual >>> 0, ScsiResponseField.Residual);
  return b;
}

/** The sense data segment of a SCSI Response: SenseLength (2 bytes) then the sense (RFC 7143 §11.4.7.2). */
export function encodeSenseSegment(sense: Buffer): Buffer {
  const b = Buffer.allocUnsafe(2 + sense.length);
  b.writeUInt16BE(sense.length, 0);
  sense.copy(b, 2);
  return b;
}

/** SCSI Data-In (RFC 7143 §11.7); with `status` set it carries phase-collapsed status (S bit). */
export function encodeDataIn(f: {
  itt: number;
  lun: number;
  final: boolean;
  dataLength: number;
  dataSn: number;
  bufferOffset: number;
  statSn: number;
  expCmdSn: number;
  maxCmdSn: number;
  status?: number;
  overflow?: number;
  underflow?: number;
}): Buffer {
  let flags = f.final ? Bit.Final : 0;
  let residual = 0;
  if (f.status !== undefined) {
    flags |= Bit.Status | Bit.Final;
    if (f.overflow !== undefined && f.overflow > 0) {
      flags |= Bit.Overflow;
      residual = f.overflow;
    } else if (f.underflow !== undefined && f.underflow > 0) {
      flags |= Bit.Underflow;
      residual = f.underflow;
    }
  }
  const b = header(Opcode.DataIn, flags, f.dataLength, f.itt);
  if (f.status !== undefined) {
    b[DataField.Status] = f.status;
    b.writeUInt32BE(f.statSn >>> 0, DataField.StatSn);
  }
  writeLun(b, f.lun);
  b.writeUInt32BE(NO_TAG, DataField.Ttt);
  b.writeUInt32BE(f.expCmdSn >>> 0, DataField.ExpCmdSn);
  b.writeUInt32BE(f.maxCmdSn >>> 0, DataField.MaxCmdSn);
  b.writeUInt32BE(f.dataSn >>> 0, DataField.DataSn);
  b.writeUInt32BE(f.bufferOffset >>> 0, DataField.BufferOffset);
  b.writeUInt32BE(residual >>> 0, DataField.Residual);
  return b;
}

/** Ready To Transfer (RFC 7143 §11.8). */
export function encodeR2t(f: SnFields & { itt: number; lun: number; ttt: number; r2tSn: number; bufferOffset: number; desiredLength: number }): Buffer {
  const b = header(Opcode.R2T, Bit.Final, 0, f.itt);
  writeLun(b, f.lun);
  b.writeUInt32BE(f.ttt >>> 0, R2tField.Ttt);
  writeSn(b, f, RESPONSE_SN);
  b.writeUInt32BE(f.r2tSn >>> 0, R2tField.R2tSn);
  b.writeUInt32BE(f.bufferOffset >>> 0, R2tField.BufferOffset);
  b.writeUInt32BE(f.desiredLength >>> 0, R2tField.DesiredLength);
  return b;
}

/** NOP-In (RFC 7143 §11.19): an answer (itt set, ttt 0xffffffff) or a ping (itt 0xffffffff, ttt set). */
export function encodeNopIn(f: SnFields & { itt: number; ttt: number; lun: number; dataLength: number }): Buffer {
  const b = header(Opcode.NopIn, Bit.Final, f.dataLength, f.itt);
  writeLun(b, f.lun);
  b.writeUInt32BE(f.ttt >>> 0, NopField.Ttt);
  writeSn(b, f, RESPONSE_SN);
  return b;
}

/** Task Management Function Response (RFC 7143 §11.6). */
export function encodeTmfResponse(f: SnFields & { itt: number; response: number }): Buffer {
  const b = header(Opcode.TaskMgmtResponse, Bit.Final, 0, f.itt);
  b[TmfField.Response] = f.response;
  writeSn(b, f, RESPONSE_SN);
  return b;
}

/** Login Response (RFC 7143 §11.13). */
export function encodeLoginResponse(f: SnFields & {
  transit: boolean;
  cont?: boolean;
  csg: number;
  nsg: number;
  isid: string;
  tsih: number;
  itt: number;
  status: number;
  dataLength: number;
}): Buffer {
  const flags = (f.transit ? Bit.Transit : 0) | (f.cont === true ? Bit.Continue : 0) | ((f.csg << LoginField.CsgShift) & LoginField.CsgMask) | (f.transit ? f.nsg & LoginField.NsgMask : 0);
  const b = header(Opcode.LoginResponse, flags, f.dataLength, f.itt);
  b[LoginField.VersionMax] = 0x00; // RFC 7143 §11.13.3: Version-max 0x00
  b[LoginField.VersionMin] = 0x00; // Version-active 0x00
  Buffer.from(f.isid.padStart(12, '0').slice(0, 12), 'hex').copy(b, LoginField.Isid);
  b.writeUInt16BE(f.tsih, LoginField.Tsih);
  writeSn(b, f, RESPONSE_SN);
  b[LoginField.StatusClass] = (f.status >> 8) & 0xff;
  b[LoginField.StatusDetail] = f.status & 0xff;
  return b;
}

/** Text Response (RFC 7143 §11.11). */
export function encodeTextResponse(f: SnFields & { itt: number; lun: number; final: boolean; cont?: boolean; ttt: number; dataLength: number }): Buffer {
  const b = header(Opcode.TextResponse, (f.final ? Bit.Final : 0) | (f.cont === true ? Bit.Continue : 0), f.dataLength, f.itt);
  writeLun(b, f.lun);
  b.writeUInt32BE(f.ttt >>> 0, TextField.Ttt);
  writeSn(b, f, RESPONSE_SN);
  return b;
}

/** Logout Response (RFC 7143 §11.15). */
export function encodeLogoutResponse(f: SnFields & { itt: number; response: number; time2Wait: number; time2Retain: number }): Buffer {
  const b = header(Opcode.LogoutResponse, Bit.Final, 0, f.itt);
  b[LogoutField.Response] = f.response;
  writeSn(b, f, RESPONSE_SN);
  b.writeUInt16BE(f.time2Wait, LogoutField.Time2Wait);
  b.writeUInt16BE(f.time2Retain, LogoutField.Time2Retain);
  return b;
}

/** Reject (RFC 7143 §11.17); the data segment is the rejected PDU's header. */
export function encodeReject(f: SnFields & { reason: number; dataLength: number; dataSn?: number }): Buffer {
  const b = header(Opcode.Reject, Bit.Final, 0, NO_TAG);
  b.writeUIntBE(f.dataLength, Bhs.DataSegmentLength, 3);
  b[RejectField.Reason] = f.reason;
  writeSn(b, f, RESPONSE_SN);
  b.writeUInt32BE((f.dataSn ?? 0) >>> 0, RejectField.DataSn);
  return b;
}
