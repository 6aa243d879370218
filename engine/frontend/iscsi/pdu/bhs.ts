/**
 * The Basic Header Segment (RFC 7143 §11.2): 48 bytes, big-endian, with per-opcode fields. Offsets
 * are named here once; decode.ts and encode.ts use them and nothing else.
 */

/** Length of the BHS in bytes (RFC 7143 §11.2). */
export const BHS_LENGTH = 48;
/** Length of a CRC32C digest (RFC 7143 §11.2.1). */
export const DIGEST_LENGTH = 4;
/** Most bytes a data segment can hold: DataSegmentLength is 24 bits (RFC 7143 §11.2.1.5). */
export const MAX_DATA_SEGMENT = 0xffffff;

/** Field offsets shared by every PDU (RFC 7143 §11.2.1). */
export const Bhs = {
  Opcode: 0, // I bit 0x40 | opcode 0x3f
  Flags: 1, // F bit 0x80 and opcode-specific flags
  TotalAhsLength: 4, // in 4-byte words
  DataSegmentLength: 5, // 24 bits
  Lun: 8, // 8 bytes (or opcode-specific)
  Itt: 16, // Initiator Task Tag
} as const;

/** Bits of byte 0 and byte 1. */
export const Bit = {
  Immediate: 0x40, // I: immediate delivery (byte 0)
  OpcodeMask: 0x3f,
  Final: 0x80, // F (byte 1)
  Continue: 0x40, // C in Login/Text (byte 1)
  Read: 0x40, // R in SCSI Command (byte 1)
  Write: 0x20, // W in SCSI Command (byte 1)
  AttrMask: 0x07, // ATTR in SCSI Command (byte 1)
  Transit: 0x80, // T in Login (byte 1)
  Acknowledge: 0x40, // A in Data-In (byte 1)
  BidiOverflow: 0x10, // o in SCSI Response
  BidiUnderflow: 0x08, // u in SCSI Response
  Overflow: 0x04, // O in SCSI Response and Data-In
  Underflow: 0x02, // U in SCSI Response and Data-In
  Status: 0x01, // S in Data-In
} as const;

/** SCSI Command fields (RFC 7143 §11.3). */
export const ScsiCommandField = { ExpectedDataTransferLength: 20, CmdSn: 24, ExpStatSn: 28, Cdb: 32, CdbLength: 16 } as const;
/** SCSI Response fields (RFC 7143 §11.4). */
export const ScsiResponseField = { Response: 2, Status: 3, SnackTag: 20, StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32, ExpDataSn: 36, BidiResidual: 40, Residual: 44 } as const;
/** Task Management request/response fields (RFC 7143 §11.5, §11.6). */
export const TmfField = { FunctionMask: 0x7f, ReferencedTaskTag: 20, CmdSn: 24, ExpStatSn: 28, RefCmdSn: 32, ExpDataSn: 36, Response: 2, StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32 } as const;
/** Data-Out / Data-In fields (RFC 7143 §11.7). */
export const DataField = { Status: 3, Ttt: 20, StatSn: 24, ExpStatSn: 28, ExpCmdSn: 28, MaxCmdSn: 32, DataSn: 36, BufferOffset: 40, Residual: 44 } as const;
/** R2T fields (RFC 7143 §11.8). */
export const R2tField = { Ttt: 20, StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32, R2tSn: 36, BufferOffset: 40, DesiredLength: 44 } as const;
/** Login request/response fields (RFC 7143 §11.12, §11.13). */
export const LoginField = {
  CsgMask: 0x0c,
  CsgShift: 2,
  NsgMask: 0x03,
  VersionMax: 2,
  VersionMin: 3, // VersionActive in the response
  Isid: 8, // 6 bytes
  Tsih: 14,
  Cid: 20,
  CmdSn: 24,
  ExpStatSn: 28,
  StatSn: 24,
  ExpCmdSn: 28,
  MaxCmdSn: 32,
  StatusClass: 36,
  StatusDetail: 37,
} as const;
/** Text request/response fields (RFC 7143 §11.10, §11.11). */
export const TextField = { Ttt: 20, CmdSn: 24, ExpStatSn: 28, StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32 } as const;
/** Logout request/response fields (RFC 7143 §11.14, §11.15). */
export const LogoutField = { ReasonMask: 0x7f, Cid: 20, CmdSn: 24, ExpStatSn: 28, Response: 2, StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32, Time2Wait: 40, Time2Retain: 42 } as const;
/** NOP-Out / NOP-In fields (RFC 7143 §11.18, §11.19). */
export const NopField = { Ttt: 20, CmdSn: 24, ExpStatSn: 28, StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32 } as const;
/** Reject fields (RFC 7143 §11.17). */
export const RejectField = { Reason: 2, Tag: 16, StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32, DataSn: 36 } as const;
/** SNACK fields (RFC 7143 §11.16). */
export const SnackField = { TypeMask: 0x0f, Ttt: 20, ExpStatSn: 28 } as const;

/** AHS types (RFC 7143 §11.2.2). */
export const AhsType = { ExtendedCdb: 1, BidiReadLength: 2 } as const;

/** The opcode of a BHS. */
export function opcodeOf(bhs: Buffer): number {
  return (bhs[Bhs.Opcode] as number) & Bit.OpcodeMask;
}

/** Whether the I (immediate) bit is set. */
export function isImmediate(bhs: Buffer): boolean {
  return ((bhs[Bhs.Opcode] as number) & Bit.Immediate) !== 0;
}

/** TotalAHSLength in bytes. */
export function ahsLengthOf(bhs: Buffer): number {
  return (bhs[Bhs.TotalAhsLength] as number) * 4;
}

/** DataSegmentLength in bytes (without padding). */
export function dataLengthOf(bhs: Buffer): number {
  return bhs.readUIntBE(Bhs.DataSegmentLength, 3);
}

/** Bytes of padding after a data segment of `n` bytes (RFC 7143 §11.2.3). */
export function padOf(n: number): number {
  return (4 - (n & 3)) & 3;
}

/** The 64-bit LUN field as a LUN number (SAM flat/peripheral addressing, single level). */
export function lunOf(bhs: Buffer): number {
  const b0 = bhs[Bhs.Lun] as number;
  return ((b0 & 0x3f) << 8) | (bhs[Bhs.Lun + 1] as number);
}

/** Writes a LUN number into the 8-byte LUN field (peripheral addressing below 256, flat above). */
export function writeLun(bhs: Buffer, lun: number): void {
  bhs.fill(0, Bhs.Lun, Bhs.Lun + 8);
  if (lun < 256) bhs[Bhs.Lun + 1] = lun;
  else {
    bhs[Bhs.Lun] = 0x40 | ((lun >> 8) & 0x3f);
    bhs[Bhs.Lun + 1] = lun & 0xff;
  }
}
