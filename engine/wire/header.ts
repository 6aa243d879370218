/**
 * The engine↔replica wire header: a fixed 32-byte header, BIG-ENDIAN (to match iSCSI), magic and
 * version first so a stray or foreign stream is refused before any other field is trusted.
 *
 *   0  magic          u16  0x5348 ('SH')
 *   2  version        u8   1
 *   3  op             u8   see Op
 *   4  requestId      u32  echoed by the response; responses may come back in any order
 *   8  offsetBytes    u64  (≤ 2^53-1)
 *  16  lengthBytes    u64  (≤ 2^53-1)
 *  24  payloadBytes   u32  bytes of payload following the header
 *  28  reserved       u32  must be 0
 */

/** 'SH': the first two bytes of every frame. */
export const MAGIC = 0x5348;
/** Protocol version; a peer speaking another version is refused. */
export const VERSION = 1;

/** Byte offsets of the header fields. */
export const HeaderField = {
  magic: 0,
  version: 2,
  op: 3,
  requestId: 4,
  offsetBytes: 8,
  lengthBytes: 16,
  payloadBytes: 24,
  reserved: 28,
} as const;

/** Header size, from the last field (u32 reserved) onwards. */
export const HEADER_BYTES = HeaderField.reserved + 4;

/** Largest payload once authenticated: 4 MiB of data (a read reply or a write). */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Largest payload before authentication: the auth exchange carries at most 64 bytes. */
export const MAX_PREAUTH_PAYLOAD_BYTES = 64;
/** Largest read or write, in bytes (a read's reply must fit one payload). */
export const MAX_IO_BYTES = MAX_PAYLOAD_BYTES;

/** Frame operations. Requests go engine → replica; Challenge/AuthOk/Response/Error go back. */
export const Op = {
  Challenge: 0x01, // server → client: 32-byte server nonce
  Auth: 0x02, // client → server: 32-byte client nonce + 32-byte HMAC proof
  AuthOk: 0x03, // server → client: 32-byte HMAC proof of the server
  Read: 0x10, // offset, length → data
  Write: 0x11, // offset, payload = data (length = payload length)
  Unmap: 0x12, // offset, length
  Flush: 0x13, // data, allocation and metadata durable before the reply
  Ping: 0x14,
  Info: 0x15, // → JSON ReplicaInfo
  AllocatedRanges: 0x16, // offset, length → ranges (u64 offset, u64 length)*, at most MAX_RANGES_PER_REPLY
  ReadRanges: 0x17, // payload = ranges (u64 offset, u64 length)* → their data, concatenated
  SetRebuilding: 0x18, // payload = 1 byte, 0 or 1
  SetRevision: 0x19, // payload = decimal revision
  SetExtra: 0x1a, // payload = JSON {key, value | null}
  Expand: 0x1b, // offset = the new volume size in bytes (≥ the current one); no payload
  Response: 0x80, // success; payload depends on the request's op
  Error: 0x81, // payload = u16 errno + UTF-8 message
} as const;
/** A frame operation code. */
export type Op = (typeof Op)[keyof typeof Op];

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));

/** The op's name for logs, or `0xNN` when unknown. */
export function opName(op: number): string {
  return OP_NAMES.get(op) ?? `0x${op.toString(16).padStart(2, '0')}`;
}

/** Whether a byte is a known op. */
export function isKnownOp(op: number): op is Op {
  return OP_NAMES.has(op);
}

/** Ranges in one AllocatedRanges reply; the client asks again from the last range's end for more. */
export const MAX_RANGES_PER_REPLY = 65536;
/** Bytes of one range on the wire (u64 offset, u64 length). */
export const RANGE_BYTES = 16;

/** A decoded header. */
export interface FrameHeader {
  readonly op: number;
  readonly requestId: number;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly payloadBytes: number;
}

const TWO32 = 0x1_0000_0000;

/** Reads a u64 that must be a safe integer; returns -1 when it is not. */
export function readSafeU64(buf: Buffer, at: number): number {
  const hi = buf.readUInt32BE(at);
  if (hi > 0x1f_ffff) return -1;
  return hi * TWO32 + buf.readUInt32BE(at + 4);
}

/** Writes a safe non-negative integer as a u64. */
export function writeU64(buf: Buffer, at: number, v: number): void {
  buf.writeUInt32BE(Math.floor(v / TWO32), at);
  buf.writeUInt32BE(v % TWO32, at + 4);
}

/** Writes a full header at `at`. */
export function writeHeader(buf: Buffer, at: number, op: number, requestId: number, offsetBytes: number, lengthBytes: number, payloadBytes: number): void {
  buf.writeUInt16BE(MAGIC, at + HeaderField.magic);
  buf.writeUInt8(VERSION, at + HeaderField.version);
  buf.writeUInt8(op, at + HeaderField.op);
  buf.writeUInt32BE(requestId >>> 0, at + HeaderField.requestId);
  writeU64(buf, at + HeaderField.offsetBytes, offsetBytes);
  writeU64(buf, at + HeaderField.lengthBytes, lengthBytes);
  buf.writeUInt32BE(payloadBytes, at + HeaderField.payloadBytes);
  buf.writeUInt32BE(0, at + HeaderField.reserved);
}
