import * as E from 'fp-ts/Either';
import { AhsType, Bhs, Bit, DataField, LoginField, LogoutField, NopField, ScsiCommandField, SnackField, TextField, TmfField, lunOf } from './bhs.ts';
import { RejectReason } from './opcodes.ts';

/**
 * Pure decoders for the PDUs an initiator sends (RFC 7143 §11), one per opcode. They read fixed
 * offsets of the BHS, copy what they keep, and answer a ProtocolError naming the Reject reason.
 */

/** A PDU that cannot be accepted: the connection answers with a Reject carrying `reason`. */
export interface ProtocolError {
  readonly _tag: 'ProtocolError';
  readonly reason: RejectReason;
  readonly message: string;
}

/** Builds a ProtocolError. */
export function protocolError(reason: RejectReason, message: string): ProtocolError {
  return { _tag: 'ProtocolError', reason, message };
}

/** SCSI Command (RFC 7143 §11.3). */
export interface ScsiCommandPdu {
  readonly immediate: boolean;
  readonly final: boolean;
  readonly read: boolean;
  readonly write: boolean;
  readonly attr: number;
  readonly lun: number;
  readonly itt: number;
  readonly expectedLength: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
  /** The CDB, extended by an Extended CDB AHS when present (a copy). */
  readonly cdb: Buffer;
  /** Bidirectional Expected Read-Data Length AHS, when present. */
  readonly bidiReadLength: number | undefined;
}

/** Decodes a SCSI Command BHS and its AHS. */
export function decodeScsiCommand(bhs: Buffer, ahs: Buffer): E.Either<ProtocolError, ScsiCommandPdu> {
  const flags = bhs[Bhs.Flags] as number;
  const read = (flags & Bit.Read) !== 0;
  const write = (flags & Bit.Write) !== 0;
  const expectedLength = bhs.readUInt32BE(ScsiCommandField.ExpectedDataTransferLength);
  let cdb = Buffer.from(bhs.subarray(ScsiCommandField.Cdb, ScsiCommandField.Cdb + ScsiCommandField.CdbLength));
  let bidiReadLength: number | undefined;
  let off = 0;
  while (off + 4 <= ahs.length) {
    // AHS: AHSLength (2 bytes, excluding the type byte and the reserved byte), type, specific (RFC 7143 §11.2.2).
    const len = ahs.readUInt16BE(off);
    const type = ahs[off + 2] as number;
    if (off + 3 + len > ahs.length) return E.left(protocolError(RejectReason.InvalidPduField, 'AHS longer than TotalAHSLength'));
    if (type === AhsType.ExtendedCdb) cdb = Buffer.concat([cdb, ahs.subarray(off + 4, off + 3 + len)]);
    else if (type === AhsType.BidiReadLength && len >= 5) bidiReadLength = ahs.readUInt32BE(off + 4);
    else return E.left(protocolError(RejectReason.InvalidPduField, `unknown AHS type ${type}`));
    off += (3 + len + 3) & ~3;
  }
  if (!read && !write && expectedLength !== 0) {
    // RFC 7143 §11.3.1.1: with neither R nor W, Expected Data Transfer Length must be 0.
    return E.left(protocolError(RejectReason.InvalidPduField, 'Expected Data Transfer Length set without R or W'));
  }
  if (!(flags & Bit.Final) && !write) return E.left(protocolError(RejectReason.InvalidPduField, 'F bit clear on a command that sends no data'));
  return E.right({
    immediate: ((bhs[Bhs.Opcode] as number) & Bit.Immediate) !== 0,
    final: (flags & Bit.Final) !== 0,
    read,
    write,
    attr: flags & Bit.AttrMask,
    lun: lunOf(bhs),
    itt: bhs.readUInt32BE(Bhs.Itt),
    expectedLength,
    cmdSn: bhs.readUInt32BE(ScsiCommandField.CmdSn),
    expStatSn: bhs.readUInt32BE(ScsiCommandField.ExpStatSn),
    cdb,
    bidiReadLength,
  });
}

/** SCSI Data-Out (RFC 7143 §11.7). */
export interface DataOutPdu {
  readonly final: boolean;
  readonly lun: number;
  readonly itt: number;
  readonly ttt: number;
  readonly dataSn: number;
  readonly bufferOffset: number;
}

/** Decodes a Data-Out BHS. */
export function decodeDataOut(bhs: Buffer): DataOutPdu {
  return {
    final: ((bhs[Bhs.Flags] as number) & Bit.Final) !== 0,
    lun: lunOf(bhs),
    itt: bhs.readUInt32BE(Bhs.Itt),
    ttt: bhs.readUInt32BE(DataField.Ttt),
    dataSn: bhs.readUInt32BE(DataField.DataSn),
    bufferOffset: bhs.readUInt32BE(DataField.BufferOffset),
  };
}

/** NOP-Out (RFC 7143 §11.18). */
export interface NopOutPdu {
  readonly immediate: boolean;
  readonly lun: number;
  readonly itt: number;
  readonly ttt: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
}

/** Decodes a NOP-Out BHS. */
export function decodeNopOut(bhs: Buffer): NopOutPdu {
  return {
    immediate: ((bhs[Bhs.Opcode] as number) & Bit.Immediate) !== 0,
    lun: lunOf(bhs),
    itt: bhs.readUInt32BE(Bhs.Itt),
    ttt: bhs.readUInt32BE(NopField.Ttt),
    cmdSn: bhs.readUInt32BE(NopField.CmdSn),
    expStatSn: bhs.readUInt32BE(NopField.ExpStatSn),
  };
}

/** Task Management Function Request (RFC 7143 §11.5). */
export interface TmfRequestPdu {
  readonly immediate: boolean;
  readonly fn: number;
  readonly lun: number;
  readonly itt: number;
  readonly referencedTaskTag: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
  readonly refCmdSn: number;
}

/** Decodes a Task Management Function Request BHS. */
export function decodeTmfRequest(bhs: Buffer): E.Either<ProtocolError, TmfRequestPdu> {
  const flags = bhs[Bhs.Flags] as number;
  if (!(flags & Bit.Final)) return E.left(protocolError(RejectReason.InvalidPduField, 'Task Management request without the F bit'));
  return E.right({
    immediate: ((bhs[Bhs.Opcode] as number) & Bit.Immediate) !== 0,
    fn: flags & TmfField.FunctionMask,
    lun: lunOf(bhs),
    itt: bhs.readUInt32BE(Bhs.Itt),
    referencedTaskTag: bhs.readUInt32BE(TmfField.ReferencedTaskTag),
    cmdSn: bhs.readUInt32BE(TmfField.CmdSn),
    expStatSn: bhs.readUInt32BE(TmfField.ExpStatSn),
    refCmdSn: bhs.readUInt32BE(TmfField.RefCmdSn),
  });
}

/** Login Request (RFC 7143 §11.12). */
export interface LoginRequestPdu {
  readonly transit: boolean;
  readonly cont: boolean;
  readonly csg: number;
  readonly nsg: number;
  readonly versionMax: number;
  readonly versionMin: number;
  /** The 6-byte ISID as 12 hex digits. */
  readonly isid: string;
  readonly tsih: number;
  readonly itt: number;
  readonly cid: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
}

/** Decodes a Login Request BHS. */
export function decodeLoginRequest(bhs: Buffer): E.Either<ProtocolError, LoginRequestPdu> {
  const flags = bhs[Bhs.Flags] as number;
  const transit = (flags & Bit.Transit) !== 0;
  const cont = (flags & Bit.Continue) !== 0;
  // RFC 7143 §11.12.2: T and C must not both be set.
  if (transit && cont) return E.left(protocolError(RejectReason.InvalidPduField, 'Login request with both T and C set'));
  return E.right({
    transit,
    cont,
    csg: (flags & LoginField.CsgMask) >> LoginField.CsgShift,
    nsg: flags & LoginField.NsgMask,
    versionMax: bhs[LoginField.VersionMax] as number,
    versionMin: bhs[LoginField.VersionMin] as number,
    isid: bhs.toString('hex', LoginField.Isid, LoginField.Isid + 6),
    tsih: bhs.readUInt16BE(LoginField.Tsih),
    itt: bhs.readUInt32BE(Bhs.Itt),
    cid: bhs.readUInt16BE(LoginField.Cid),
    cmdSn: bhs.readUInt32BE(LoginField.CmdSn),
    expStatSn: bhs.readUInt32BE(LoginField.ExpStatSn),
  });
}

/** Text Request (RFC 7143 §11.10). */
export interface TextRequestPdu {
  readonly immediate: boolean;
  readonly final: boolean;
  readonly cont: boolean;
  readonly lun: number;
  readonly itt: number;
  readonly ttt: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
}

/** Decodes a Text Request BHS. */
export function decodeTextRequest(bhs: Buffer): E.Either<ProtocolError, TextRequestPdu> {
  const flags = bhs[Bhs.Flags] as number;
  const final = (flags & Bit.Final) !== 0;
  const cont = (flags & Bit.Continue) !== 0;
  if (final && cont) return E.left(protocolError(RejectReason.InvalidPduField, 'Text request with both F and C set'));
  return E.right({
    immediate: ((bhs[Bhs.Opcode] as number) & Bit.Immediate) !== 0,
    final,
    cont,
    lun: lunOf(bhs),
    itt: bhs.readUInt32BE(Bhs.Itt),
    ttt: bhs.readUInt32BE(TextField.Ttt),
    cmdSn: bhs.readUInt32BE(TextField.CmdSn),
    expStatSn: bhs.readUInt32BE(TextField.ExpStatSn),
  });
}

/** Logout Request (RFC 7143 §11.14). */
export interface LogoutRequestPdu {
  readonly immediate: boolean;
  readonly reason: number;
  readonly itt: number;
  readonly cid: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
}

/** Decodes a Logout Request BHS. */
export function decodeLogoutRequest(bhs: Buffer): E.Either<ProtocolError, LogoutRequestPdu> {
  const flags = bhs[Bhs.Flags] as number;
  if (!(flags & Bit.Final)) return E.left(protocolError(RejectReason.InvalidPduField, 'Logout request without the F bit'));
  return E.right({
    immediate: ((bhs[Bhs.Opcode] as number) & Bit.Immediate) !== 0,
    reason: flags & LogoutField.ReasonMask,
    itt: bhs.readUInt32BE(Bhs.Itt),
    cid: bhs.readUInt16BE(LogoutField.Cid),
    cmdSn: bhs.readUInt32BE(LogoutField.CmdSn),
    expStatSn: bhs.readUInt32BE(LogoutField.ExpStatSn),
  });
}

/** The SNACK type (RFC 7143 §11.16.1); SNACKs are rejected at ErrorRecoveryLevel 0. */
export function snackTypeOf(bhs: Buffer): number {
  return (bhs[Bhs.Flags] as number) & SnackField.TypeMask;
}
