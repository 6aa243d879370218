import { HEADER_BYTES, HeaderField, MAGIC, VERSION, isKnownOp, opName, readSafeU64, type FrameHeader } from './header.ts';
import { ProtocolError } from './errors.ts';

/** A complete frame: its header and payload. */
export interface Frame extends FrameHeader {
  /**
   * NOTE: the payload may share memory with a socket chunk, but never with the decoder's own
   * buffer, so it stays valid after later pushes and may be retained without copying.
   */
  readonly payload: Buffer;
  /** The payload was assembled in a buffer from the decoder's `payloadBuffer` source (see DecoderOptions). */
  readonly fromSource?: true;
}

/** A buffer of exactly `bytes` bytes for the payload of the frame whose header is given. */
export type PayloadSource = (bytes: number, header: FrameHeader) => Buffer;

/** Where the decoder gets buffers for payloads it has to assemble. */
export interface DecoderOptions {
  /**
   * A buffer of exactly `bytes` bytes for a payload that does not lie whole in one chunk; default
   * Buffer.allocUnsafe. A caller that pools buffers gives a `fromSource` payload back once it is done.
   */
  readonly payloadBuffer?: PayloadSource;
  /**
   * Never hand out a payload that shares memory with a pushed chunk: every payload is copied into a
   * buffer from `payloadBuffer`. For a reader whose chunks are views of one reused receive buffer;
   * it calls `endChunk()` after draining each chunk.
   */
  readonly copyPayloads?: boolean;
}

const EMPTY = Buffer.alloc(0);

/** A payload at least this large that spans chunks is copied straight into its own buffer. */
export const DIRECT_PAYLOAD_BYTES = 4096;

/** A frame whose header has been read and whose payload is being filled in place. */
interface DirectFrame {
  readonly header: FrameHeader;
  readonly payload: Buffer;
  filled: number;
}

function allocUnsafe(bytes: number): Buffer {
  return Buffer.allocUnsafe(bytes);
}

/**
 * Splits a byte stream into frames. A chunk that arrives while nothing is pending is borrowed as it
 * is, so whole frames inside one chunk are handed out without a copy. Only a frame that straddles
 * chunks is assembled in the decoder's own growable buffer (reused, grown geometrically), and only
 * up to that frame's end: the rest of the chunk is borrowed again once the frame is handed out.
 * The header (magic and version first) is checked as soon as its bytes are there, and the payload
 * length against the cap BEFORE any payload is buffered, so a hostile length never makes us
 * allocate or wait. A payload of DIRECT_PAYLOAD_BYTES or more that spans chunks (every 1 MiB write)
 * is copied from each chunk straight into a buffer of its exact size, once, as soon as its header is
 * in; it is not gathered in the assembly buffer and copied out again.
 *
 * Use: push(chunk), then call next() until it returns null, then push the next chunk.
 */
export class FrameDecoder {
  private buf: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  /** `buf` is a socket chunk we must not write into. */
  private borrowed = false;
  /** The decoder's own assembly buffer, kept for reuse. */
  private own: Buffer = EMPTY;
  /** The part of the last chunk after the frame being assembled. */
  private rest: Buffer | null = null;
  private failed: ProtocolError | null = null;
  private direct: DirectFrame | null = null;
  private payloadBuffer: PayloadSource;
  private readonly copyPayloads: boolean;

  /** `maxPayloadBytes` may be raised later (after authentication) with `setMaxPayload`. */
  constructor(
    private maxPayloadBytes: number,
    options: DecoderOptions = {},
  ) {
    this.payloadBuffer = options.payloadBuffer ?? allocUnsafe;
    this.copyPayloads = options.copyPayloads ?? false;
  }

  /**
   * The chunk last pushed is about to be overwritten (a reused receive buffer): copies whatever of
   * it is still held (part of a frame, or bytes pushed before next() was drained) into memory of
   * the decoder's own. Payloads already handed out never refer to it when `copyPayloads` is set.
   */
  endChunk(): void {
    if (this.rest !== null) this.rest = Buffer.from(this.rest);
    if (!this.borrowed) return;
    const pending = this.end - this.start;
    if (pending === 0) {
      this.buf = EMPTY;
      this.start = 0;
      this.end = 0;
      this.borrowed = false;
      return;
    }
    this.moveToOwn(pending);
  }

  /** Moves the pending bytes to the start of the own buffer, grown to hold at least `need` bytes. */
  private moveToOwn(need: number): void {
    const pending = this.end - this.start;
    if (this.own.length < need) this.own = Buffer.allocUnsafe(Math.max(need, this.own.length * 2, 64 * 1024));
    this.buf.copy(this.own, 0, this.start, this.end);
    this.buf = this.own;
    this.borrowed = false;
    this.start = 0;
    this.end = pending;
  }

  /** Changes where assembled payloads go (e.g. once the connection that routes them exists). */
  setPayloadSource(source: PayloadSource): void {
    this.payloadBuffer = source;
  }

  /** Changes the payload cap (e.g. once the peer has authenticated). */
  setMaxPayload(bytes: number): void {
    this.maxPayloadBytes = bytes;
  }

  /** Bytes received but not yet handed out as frames. */
  get bufferedBytes(): number {
    const d = this.direct;
    return this.end - this.start + (this.rest?.length ?? 0) + (d === null ? 0 : HEADER_BYTES + d.filled);
  }

  /** Adds received bytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.rest !== null) {
      // next() was not drained before this push: keep every byte, in order.
      this.rest = Buffer.concat([this.rest, chunk]);
      return;
    }
    const d = this.direct;
    if (d !== null) {
      const take = Math.min(d.payload.length - d.filled, chunk.length);
      chunk.copy(d.payload, d.filled, 0, take);
      d.filled += take;
      if (take < chunk.length) this.rest = chunk.subarray(take);
      return;
    }
    const pending = this.end - this.start;
    if (pending === 0) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.borrowed = true;
      return;
    }
    const take = Math.min(chunk.length, this.bytesToFrameEnd(pending, chunk));
    this.append(chunk, take);
    if (take < chunk.length) this.rest = chunk.subarray(take);
  }

  /**
   * Bytes of `chunk` that complete the pending frame: up to its end when the header says how long
   * it is (just the header when the payload is past the cap), else everything.
   */
  private bytesToFrameEnd(pending: number, chunk: Buffer): number {
    if (pending + chunk.length < HEADER_BYTES) return chunk.length;
    let payloadBytes = 0;
    for (let i = HeaderField.payloadBytes; i < HeaderField.payloadBytes + 4; i++) {
      payloadBytes = payloadBytes * 256 + ((i < pending ? this.buf[this.start + i] : chunk[i - pending]) as number);
    }
    const frameBytes = HEADER_BYTES + (payloadBytes > this.maxPayloadBytes ? 0 : payloadBytes);
    return Math.max(0, frameBytes - pending);
  }

  /** Moves the pending bytes into the own buffer (if borrowed) and appends chunk[0, take). */
  private append(chunk: Buffer, take: number): void {
    const pending = this.end - this.start;
    const need = pending + take;
    if (this.borrowed || this.buf.length - this.start < need) this.moveToOwn(need);
    chunk.copy(this.buf, this.end, 0, take);
    this.end += take;
  }

  /**
   * The next complete frame, `null` when more bytes are needed, or a ProtocolError (after which the
   * stream is unusable and every later call returns the same error).
   */
  next(): Frame | ProtocolError | null {
    for (;;) {
      const r = this.tryNext();
      if (r !== null || this.rest === null) return r;
      // More bytes wait behind the buffered ones (a push before next() was drained): take them.
      const rest = this.rest;
      this.rest = null;
      this.push(rest);
    }
  }

  private tryNext(): Frame | ProtocolError | null {
    if (this.failed !== null) return this.failed;
    const d = this.direct;
    if (d !== null) {
      if (d.filled < d.payload.length) return null;
      this.direct = null;
      this.resetOrBorrowRest();
      return { ...d.header, payload: d.payload, fromSource: true };
    }
    const avail = this.end - this.start;
    if (avail === 0) return null;
    const b = this.buf;
    const s = this.start;
    // Magic and version first, byte by byte, so garbage is refused at once.
    if (b[s] !== MAGIC >> 8 || (avail > 1 && b[s + 1] !== (MAGIC & 0xff))) return this.fail(`bad magic 0x${b.subarray(s, s + Math.min(avail, 2)).toString('hex')}`);
    if (avail > HeaderField.version && b[s + HeaderField.version] !== VERSION) return this.fail(`unsupported protocol version ${b[s + HeaderField.version]}`);
    if (avail < HEADER_BYTES) return null;
    const op = b[s + HeaderField.op] as number;
    if (!isKnownOp(op)) return this.fail(`unknown op ${opName(op)}`);
    const payloadBytes = b.readUInt32BE(s + HeaderField.payloadBytes);
    if (payloadBytes > this.maxPayloadBytes) return this.fail(`payload of ${payloadBytes} bytes exceeds the limit of ${this.maxPayloadBytes} (op ${opName(op)})`);
    const offsetBytes = readSafeU64(b, s + HeaderField.offsetBytes);
    const lengthBytes = readSafeU64(b, s + HeaderField.lengthBytes);
    if (offsetBytes < 0 || lengthBytes < 0) return this.fail(`offset or length beyond 2^53 (op ${opName(op)})`);
    if (b.readUInt32BE(s + HeaderField.reserved) !== 0) return this.fail('reserved header field is not zero');
    const frameBytes = HEADER_BYTES + payloadBytes;
    const p0 = s + HEADER_BYTES;
    const requestId = b.readUInt32BE(s + HeaderField.requestId);
    if (avail < frameBytes) {
      if (payloadBytes < DIRECT_PAYLOAD_BYTES) return null;
      // Everything buffered belongs to this frame (push takes bytes only up to a frame's end).
      const header: FrameHeader = { op, requestId, offsetBytes, lengthBytes, payloadBytes };
      const payload = this.payloadBuffer(payloadBytes, header);
      b.copy(payload, 0, p0, this.end);
      this.direct = { header, payload, filled: this.end - p0 };
      this.buf = EMPTY;
      this.start = 0;
      this.end = 0;
      this.borrowed = false;
      return null;
    }
    this.start += frameBytes;
    if (payloadBytes === 0 || (this.borrowed && !this.copyPayloads)) {
      const payload = payloadBytes === 0 ? EMPTY : b.subarray(p0, p0 + payloadBytes);
      if (this.start === this.end) this.resetOrBorrowRest();
      return { op, requestId, offsetBytes, lengthBytes, payloadBytes, payload };
    }
    // Our own buffer is reused (or the chunk is): hand out a copy (one Buffer per frame).
    const payload = this.payloadBuffer(payloadBytes, { op, requestId, offsetBytes, lengthBytes, payloadBytes });
    b.copy(payload, 0, p0, p0 + payloadBytes);
    if (this.start === this.end) this.resetOrBorrowRest();
    return { op, requestId, offsetBytes, lengthBytes, payloadBytes, payload, fromSource: true };
  }

  /** Everything buffered was handed out: borrow what followed the assembled frame, if anything. */
  private resetOrBorrowRest(): void {
    const rest = this.rest;
    this.rest = null;
    this.buf = rest ?? EMPTY;
    this.start = 0;
    this.end = rest?.length ?? 0;
    this.borrowed = rest !== null;
  }

  private fail(message: string): ProtocolError {
    this.failed = new ProtocolError(message);
    return this.failed;
  }
}
