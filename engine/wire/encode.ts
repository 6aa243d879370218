import { HEADER_BYTES, Op, RANGE_BYTES, writeHeader, writeU64 } from './header.ts';
import { Errno, type ErrnoName } from './errors.ts';
import type { ByteRange } from '../replica/connection.ts';

const EMPTY = Buffer.alloc(0);

/**
 * A frame is built as one Buffer (payload copied in) only while it is smaller than this: Node
 * serves such allocations from its shared slab. A larger frame would be an ArrayBuffer of its own
 * per I/O, which V8 tracks and collects at a cost far above a 4 KiB copy; its header goes out alone
 * and the payload after it, in the same writev under cork().
 */
export const INLINE_FRAME_BYTES = Buffer.poolSize >>> 1;

/** Whether a frame with this payload should be encoded as one Buffer (see INLINE_FRAME_BYTES). */
export function isInlinePayload(payloadBytes: number): boolean {
  return HEADER_BYTES + payloadBytes < INLINE_FRAME_BYTES;
}

/** One frame as one Buffer: header followed by the payload (copied in). */
export function encodeFrame(op: number, requestId: number, offsetBytes: number, lengthBytes: number, payload: Buffer = EMPTY): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  writeHeader(buf, 0, op, requestId, offsetBytes, lengthBytes, payload.length);
  if (payload.length > 0) payload.copy(buf, HEADER_BYTES);
  return buf;
}

/** A header alone, for a frame whose (large) payload is written separately under cork(). */
export function encodeHeader(op: number, requestId: number, offsetBytes: number, lengthBytes: number, payloadBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES);
  writeHeader(buf, 0, op, requestId, offsetBytes, lengthBytes, payloadBytes);
  return buf;
}

/** The payload of an Error response: u16 errno, then the UTF-8 message. */
export function encodeErrorPayload(code: ErrnoName, message: string): Buffer {
  const text = Buffer.from(message.slice(0, 4000), 'utf8');
  const buf = Buffer.allocUnsafe(2 + text.length);
  buf.writeUInt16BE(Errno[code], 0);
  text.copy(buf, 2);
  return buf;
}

/** An Error response frame. */
export function encodeErrorResponse(requestId: number, code: ErrnoName, message: string): Buffer {
  return encodeFrame(Op.Error, requestId, 0, 0, encodeErrorPayload(code, message));
}

/** Ranges as (u64 offset, u64 length) pairs. */
export function encodeRanges(ranges: readonly ByteRange[]): Buffer {
  const buf = Buffer.allocUnsafe(ranges.length * RANGE_BYTES);
  let at = 0;
  for (const r of ranges) {
    writeU64(buf, at, r.offsetBytes);
    writeU64(buf, at + 8, r.lengthBytes);
    at += RANGE_BYTES;
  }
  return buf;
}
