import { BHS_LENGTH, DIGEST_LENGTH, ahsLengthOf, dataLengthOf, padOf } from './bhs.ts';
import { crc32c, crc32cUpdate, readDigest } from './digest.ts';

/**
 * One received PDU. NOTE: `bhs`, `ahs` and `data` may share memory with the decoder's buffer and
 * are valid only until the next `push`; copy whatever outlives the synchronous handler. When the
 * decoder's `placer` gave a destination for the data segment, `data` IS that destination.
 */
export interface Frame {
  readonly bhs: Buffer;
  readonly ahs: Buffer;
  readonly data: Buffer;
}

/** Why a byte stream cannot be framed; the connection answers with a Reject or closes. */
export type FrameError =
  | { readonly _tag: 'DataTooLong'; readonly bhs: Buffer; readonly dataLength: number; readonly limit: number }
  | { readonly _tag: 'HeaderDigest'; readonly bhs: Buffer }
  | { readonly _tag: 'DataDigest'; readonly bhs: Buffer };

/** Receive stages, resumable across chunks (RFC 7143 §11.2: BHS, AHS, header digest, data, data digest). */
export type RxStage = 'bhs' | 'ahs' | 'header-digest' | 'data' | 'data-digest';

/** What the decoder yields: a frame, an error (fatal for the stream), or nothing until more bytes come. */
export type FrameResult = { readonly _tag: 'Frame'; readonly frame: Frame } | { readonly _tag: 'Error'; readonly error: FrameError } | undefined;

const INITIAL_CAPACITY = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Data segments from this size on may be placed straight into their destination (see `placer`). */
export const DIRECT_MIN_BYTES = 8 * 1024;

/** A PDU whose data segment is being copied straight into its destination. */
interface Direct {
  /** BHS, AHS (and header digest), copied out of the receive buffer. */
  readonly header: Buffer;
  readonly ahsLength: number;
  readonly dst: Buffer;
  got: number;
  /** Padding and data digest after the data. */
  readonly tail: Buffer;
  tailGot: number;
}

/**
 * A growable receive buffer (pg-protocol's mergeBuffer): keeps offset and length rather than
 * concatenating chunks, compacts and grows geometrically. Lengths are checked against the limit as
 * soon as the BHS is complete, before anything of the data segment is buffered or awaited.
 */
export class FrameDecoder {
  /** Bytes of data segment the peer may send (our negotiated MaxRecvDataSegmentLength). */
  maxDataLength: number;
  headerDigest = false;
  dataDigest = false;
  /** Where the PDU being assembled is: for logs and tests. */
  stage: RxStage = 'bhs';
  private buf: Buffer = EMPTY;
  private owned = false;
  /** The last owned buffer, kept for the next PDU that spans chunks. */
  private spare: Buffer | undefined;
  private start = 0;
  private end = 0;
  private direct: Direct | undefined;
  /**
   * Asked once per PDU whose data segment (DIRECT_MIN_BYTES or more) has not fully arrived, with its
   * (digest-checked) BHS: a Buffer of exactly the data length to receive the data into, or undefined
   * to buffer it as usual. Saves a copy of every byte of large Data-Outs (the connection places them
   * in their task's buffer). Placed bytes are written before the PDU is complete or its data digest
   * checked: the placer must only offer memory that nothing reads until the frame is accepted.
   */
  placer: ((bhs: Buffer) => Buffer | undefined) | undefined;

  constructor(maxDataLength: number) {
    this.maxDataLength = maxDataLength;
  }

  /** Bytes held and not yet framed. */
  get buffered(): number {
    const d = this.direct;
    return this.end - this.start + (d === undefined ? 0 : d.header.length + d.got + d.tailGot);
  }

  /** Appends a received chunk. Frames handed out before are invalid afterwards. */
  push(chunk: Buffer): void {
    const d = this.direct;
    if (d !== undefined) {
      const n = Math.min(d.dst.length - d.got, chunk.length);
      chunk.copy(d.dst, d.got, 0, n);
      d.got += n;
      const m = Math.min(d.tail.length - d.tailGot, chunk.length - n);
      chunk.copy(d.tail, d.tailGot, n, n + m);
      d.tailGot += m;
      if (n + m === chunk.length) return;
      chunk = chunk.subarray(n + m); // the next PDUs: the receive buffer is empty while placing
    }
    if (this.start === this.end) {
      // Nothing pending: parse straight out of the chunk (a reused receive buffer calls endChunk after).
      if (this.owned) this.spare = this.buf;
      this.buf = chunk;
      this.owned = false;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    const held = this.end - this.start;
    const need = held + chunk.length;
    if (this.owned && this.buf.length >= need) {
      if (this.buf.length - this.end < chunk.length) {
        this.buf.copyWithin(0, this.start, this.end);
        this.start = 0;
        this.end = held;
      }
    } else {
      // NOTE: a chunk we parse in place belongs to the socket's pool; never write past its end.
      // Size the buffer for the whole PDU being assembled when its header is here (a 256 KiB
      // Data-Out then costs one allocation, not a doubling per chunk), and reuse the last one.
      this.moveToOwn(need);
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /**
   * The chunk last pushed is about to be overwritten (a socket that reads into one reused buffer):
   * copy the bytes still pending out of it into the decoder's own buffer. Frames handed out before
   * are invalid afterwards, as after a push.
   */
  endChunk(): void {
    if (this.owned) return;
    const held = this.end - this.start;
    if (held === 0) {
      this.buf = EMPTY;
      this.start = 0;
      this.end = 0;
      return;
    }
    this.moveToOwn(held);
  }

  /**
   * Moves the pending bytes to the start of an owned buffer of at least `need` bytes (or the whole
   * PDU being assembled, when its header is here): the spare one when it is big enough.
   */
  private moveToOwn(need: number): void {
    const held = this.end - this.start;
    const want = Math.max(need, this.pendingFrameLength());
    let next = this.spare;
    if (next === undefined || next.length < want) {
      let cap = INITIAL_CAPACITY;
      while (cap < want) cap *= 2;
      next = Buffer.allocUnsafe(cap);
    }
    this.spare = this.owned ? this.buf : undefined;
    this.buf.copy(next, 0, this.start, this.end);
    this.buf = next;
    this.owned = true;
    this.start = 0;
    this.end = held;
  }

  /** Bytes of the PDU that starts at `start` once its BHS is held (0 before): header, digests, padded data. */
  private pendingFrameLength(): number {
    if (this.end - this.start < BHS_LENGTH) return 0;
    const bhs = this.buf.subarray(this.start, this.start + BHS_LENGTH);
    const dataLen = dataLengthOf(bhs);
    if (dataLen > this.maxDataLength) return 0; // refused in next(); never size a buffer by it
    const hd = this.headerDigest ? DIGEST_LENGTH : 0;
    const dd = this.dataDigest && dataLen > 0 ? DIGEST_LENGTH : 0;
    return BHS_LENGTH + ahsLengthOf(bhs) + hd + dataLen + padOf(dataLen) + dd;
  }

  /** The next complete frame, an error, or undefined when more bytes are needed. */
  next(): FrameResult {
    if (this.direct !== undefined) return this.nextDirect(this.direct);
    const avail = this.end - this.start;
    if (avail < BHS_LENGTH) {
      this.stage = 'bhs';
      return undefined;
    }
    const s = this.start;
    const bhs = this.buf.subarray(s, s + BHS_LENGTH);
    const ahsLen = ahsLengthOf(bhs);
    const dataLen = dataLengthOf(bhs);
    if (dataLen > this.maxDataLength) return { _tag: 'Error', error: { _tag: 'DataTooLong', bhs: Buffer.from(bhs), dataLength: dataLen, limit: this.maxDataLength } };
    const hd = this.headerDigest ? DIGEST_LENGTH : 0;
    const dd = this.dataDigest && dataLen > 0 ? DIGEST_LENGTH : 0;
    const padded = dataLen + padOf(dataLen);
    const headerEnd = BHS_LENGTH + ahsLen;
    const total = headerEnd + hd + padded + dd;
    if (avail < total && this.placer !== undefined && dataLen >= DIRECT_MIN_BYTES && avail >= headerEnd + hd) {
      if (hd > 0 && crc32c(this.buf, s, s + headerEnd) !== readDigest(this.buf, s + headerEnd)) {
        return { _tag: 'Error', error: { _tag: 'HeaderDigest', bhs: Buffer.from(bhs) } };
      }
      const dst = this.placer(bhs);
      if (dst !== undefined && dst.length === dataLen) return this.startDirect(dst, headerEnd + hd, ahsLen, padded - dataLen + dd);
    }
    if (avail < total) {
      this.stage = avail < headerEnd ? 'ahs' : avail < headerEnd + hd ? 'header-digest' : avail < headerEnd + hd + padded ? 'data' : 'data-digest';
      return undefined;
    }
    if (hd > 0 && crc32c(this.buf, s, s + headerEnd) !== readDigest(this.buf, s + headerEnd)) {
      return { _tag: 'Error', error: { _tag: 'HeaderDigest', bhs: Buffer.from(bhs) } };
    }
    const dataStart = s + headerEnd + hd;
    this.start += total;
    this.stage = 'bhs';
    if (dd > 0 && crc32c(this.buf, dataStart, dataStart + padded) !== readDigest(this.buf, dataStart + padded)) {
      // The PDU is consumed: with a good header the stream stays in sync (RFC 7143 §7.8: Reject, discard).
      return { _tag: 'Error', error: { _tag: 'DataDigest', bhs: Buffer.from(bhs) } };
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    return {
      _tag: 'Frame',
      frame: { bhs, ahs: this.buf.subarray(s + BHS_LENGTH, s + headerEnd), data: this.buf.subarray(dataStart, dataStart + dataLen) },
    };
  }

  /** Moves the PDU at `start` into direct mode: its header is copied, what arrived of its data placed. */
  private startDirect(dst: Buffer, headerBytes: number, ahsLength: number, tailBytes: number): undefined {
    const s = this.start;
    const d: Direct = { header: Buffer.from(this.buf.subarray(s, s + headerBytes)), ahsLength, dst, got: 0, tail: Buffer.alloc(tailBytes), tailGot: 0 };
    const rest = this.buf.subarray(s + headerBytes, this.end); // shorter than data + tail, or we would not be here
    d.got = rest.copy(dst, 0, 0, Math.min(rest.length, dst.length));
    d.tailGot = rest.copy(d.tail, 0, d.got);
    this.direct = d;
    this.start = 0;
    this.end = 0;
    this.stage = d.got < dst.length ? 'data' : 'data-digest';
    return undefined;
  }

  /** The placed PDU once its data, padding and digest are all in. */
  private nextDirect(d: Direct): FrameResult {
    if (d.got < d.dst.length || d.tailGot < d.tail.length) {
      this.stage = d.got < d.dst.length ? 'data' : 'data-digest';
      return undefined;
    }
    this.direct = undefined;
    this.stage = 'bhs';
    const bhs = d.header.subarray(0, BHS_LENGTH);
    if (this.dataDigest) {
      const pad = d.tail.length - DIGEST_LENGTH;
      if (crc32cUpdate(crc32c(d.dst), d.tail.subarray(0, pad)) !== readDigest(d.tail, pad)) return { _tag: 'Error', error: { _tag: 'DataDigest', bhs: Buffer.from(bhs) } };
    }
    return { _tag: 'Frame', frame: { bhs, ahs: d.header.subarray(BHS_LENGTH, BHS_LENGTH + d.ahsLength), data: d.dst } };
  }
}
