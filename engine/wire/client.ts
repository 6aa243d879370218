import { connect, type NetConnectOpts, type Socket } from 'node:net';
import * as E from 'fp-ts/Either';
import { FrameDecoder, type Frame } from './frame-decoder.ts';
import type { FrameHeader } from './header.ts';
import { MAX_IO_BYTES, MAX_PAYLOAD_BYTES, MAX_PREAUTH_PAYLOAD_BYTES, MAX_RANGES_PER_REPLY, Op, opName } from './header.ts';
import { encodeFrame, encodeHeader, encodeRanges, isInlinePayload } from './encode.ts';
import { ProtocolError, ReplicaError, TransportError } from './errors.ts';
import { decodeErrorPayload, decodeInfo, decodeRanges } from './payloads.ts';
import { clientHandshake } from './handshake.ts';
import type { ByteRange, ReplicaConnection, ReplicaInfo } from '../replica/connection.ts';

/** Where and how to reach a replica. */
export interface ConnectReplicaOptions {
  readonly host: string;
  readonly port: number;
  /** The volume's shared secret (see secret.ts readSecretFile). */
  readonly secret: Buffer | string;
  /** Deadline for connecting and authenticating; default 8000 ms. Per-I/O timeouts are the caller's. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly op: number;
  /** Expected reply bytes for reads. */
  readonly replyBytes: number;
  /** Where a read's reply goes (readInto), instead of a buffer of its own. */
  readonly dst: Buffer | undefined;
  readonly resolve: (v: never) => void;
  readonly reject: (e: Error) => void;
}

/** Connects to a replica and authenticates; the connection is ready for pipelined I/O. */
export async function connectReplica(opts: ConnectReplicaOptions): Promise<WireReplicaConnection> {
  const address = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  const timeoutMs = opts.timeoutMs ?? 8000;
  const secret = typeof opts.secret === 'string' ? Buffer.from(opts.secret, 'utf8') : opts.secret;
  // writableHighWaterMark (a stream option net.Socket passes on): 32+ frames of a tick fit before write() says false.
  const socket = connect({ host: opts.host, port: opts.port, noDelay: true, writableHighWaterMark: 1024 * 1024 } as NetConnectOpts);
  const decoder = new FrameDecoder(MAX_PREAUTH_PAYLOAD_BYTES);
  await clientHandshake(socket, decoder, secret, timeoutMs, address);
  decoder.setMaxPayload(MAX_PAYLOAD_BYTES);
  return new WireReplicaConnection(socket, decoder, address);
}

/**
 * A ReplicaConnection over the wire. Requests are pipelined: each gets an id, goes out at once
 * (frames issued in one tick leave in one writev through cork/uncork), and resolves when its reply
 * arrives, in whatever order. When the socket closes every pending call rejects with TransportError.
 * Backpressure: after socket.write() returns false, frames queue until 'drain'.
 */
export class WireReplicaConnection implements ReplicaConnection {
  /** Resolves when the connection is gone, with the reason. */
  readonly closed: Promise<Error>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private corked = false;
  private blocked = false;
  private readonly queue: Buffer[] = [];
  private dead: Error | null = null;
  private resolveClosed!: (e: Error) => void;

  constructor(
    private readonly socket: Socket,
    private readonly decoder: FrameDecoder,
    /** host:port, for messages. */
    readonly address: string,
  ) {
    this.closed = new Promise<Error>((r) => (this.resolveClosed = r));
    decoder.setPayloadSource(this.payloadFor);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (e) => this.fail(new TransportError(`replica ${address}: ${e.message}`, { cause: e })));
    socket.on('close', () => this.fail(new TransportError(`replica ${address}: connection closed`)));
    // Bytes that followed AuthOk in the same chunk.
    if (decoder.bufferedBytes > 0) this.onData(Buffer.alloc(0));
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  readAt(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    if (lengthBytes > MAX_IO_BYTES) return Promise.reject(new ReplicaError('EINVAL', `read of ${lengthBytes} bytes exceeds ${MAX_IO_BYTES}`));
    return this.request(Op.Read, offsetBytes, lengthBytes, undefined, lengthBytes);
  }

  /**
   * A read whose reply lands in `dst`: a reply spanning socket reads is assembled there directly,
   * one inside a single read is copied there. After `close` (the engine closes a replica it sets
   * ERR) no byte is written into `dst`: the socket is destroyed and the request forgotten.
   */
  readInto(offsetBytes: number, dst: Buffer): Promise<void> {
    if (dst.length > MAX_IO_BYTES) return Promise.reject(new ReplicaError('EINVAL', `read of ${dst.length} bytes exceeds ${MAX_IO_BYTES}`));
    return this.request(Op.Read, offsetBytes, dst.length, undefined, dst.length, dst);
  }

  /** The decoder's buffer for a reply payload it assembles: the caller's `dst` for readInto. */
  private readonly payloadFor = (bytes: number, h: FrameHeader): Buffer => {
    if (h.op === Op.Response) {
      const dst = this.pending.get(h.requestId)?.dst;
      if (dst !== undefined && dst.length === bytes) return dst;
    }
    return Buffer.allocUnsafe(bytes);
  };

  writeAt(offsetBytes: number, data: Buffer): Promise<void> {
    if (data.length > MAX_IO_BYTES) return Promise.reject(new ReplicaError('EINVAL', `write of ${data.length} bytes exceeds ${MAX_IO_BYTES}`));
    return this.request(Op.Write, offsetBytes, data.length, data, 0);
  }

  unmapAt(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.request(Op.Unmap, offsetBytes, lengthBytes, undefined, 0);
  }

  flush(): Promise<void> {
    return this.request(Op.Flush, 0, 0, undefined, 0);
  }

  ping(): Promise<void> {
    return this.request(Op.Ping, 0, 0, undefined, 0);
  }

  info(): Promise<ReplicaInfo> {
    return this.request(Op.Info, 0, 0, undefined, 0);
  }

  async allocatedRanges(offsetBytes: number, lengthBytes: number): Promise<ByteRange[]> {
    const out: ByteRange[] = [];
    const end = offsetBytes + lengthBytes;
    let at = offsetBytes;
    while (at < end) {
      const page: ByteRange[] = await this.request(Op.AllocatedRanges, at, end - at, undefined, 0);
      for (const r of page) {
        const last = out[out.length - 1];
        if (last !== undefined && last.offsetBytes + last.lengthBytes === r.offsetBytes) out[out.length - 1] = { offsetBytes: last.offsetBytes, lengthBytes: last.lengthBytes + r.lengthBytes };
        else out.push(r);
      }
      const tail = page[page.length - 1];
      if (page.length < MAX_RANGES_PER_REPLY || tail === undefined) break;
      at = tail.offsetBytes + tail.lengthBytes;
    }
    return out;
  }

  /** Reads several ranges in one request (rebuild); the reply is their data concatenated, in order. */
  readRanges(ranges: readonly ByteRange[]): Promise<Buffer> {
    let total = 0;
    for (const r of ranges) total += r.lengthBytes;
    if (total > MAX_IO_BYTES) return Promise.reject(new ReplicaError('EINVAL', `bulk read of ${total} bytes exceeds ${MAX_IO_BYTES}`));
    return this.request(Op.ReadRanges, 0, total, encodeRanges(ranges), total);
  }

  setRebuilding(rebuilding: boolean): Promise<void> {
    return this.request(Op.SetRebuilding, 0, 0, Buffer.from([rebuilding ? 1 : 0]), 0);
  }

  setRevision(revision: string): Promise<void> {
    return this.request(Op.SetRevision, 0, 0, Buffer.from(revision, 'latin1'), 0);
  }

  expand(sizeBytes: number): Promise<void> {
    return this.request(Op.Expand, sizeBytes, 0, undefined, 0).then(() => undefined);
  }

  setExtra(key: string, value: string | null): Promise<void> {
    return this.request(Op.SetExtra, 0, 0, Buffer.from(JSON.stringify({ key, value }), 'utf8'), 0);
  }

  close(): void {
    this.fail(new TransportError(`replica ${this.address}: connection closed by the engine`));
  }

  private request<T>(op: number, offsetBytes: number, lengthBytes: number, payload: Buffer | undefined, replyBytes: number, dst?: Buffer): Promise<T> {
    if (this.dead !== null) return Promise.reject(this.dead);
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || !Number.isSafeInteger(lengthBytes) || lengthBytes < 0) {
      return Promise.reject(new ReplicaError('EINVAL', `${opName(op)}: offset ${offsetBytes} / length ${lengthBytes} must be non-negative integers`));
    }
    let id = this.nextId;
    while (this.pending.has(id)) id = (id + 1) >>> 0;
    this.nextId = (id + 1) >>> 0;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { op, replyBytes, dst, resolve: resolve as (v: never) => void, reject });
      if (payload === undefined || isInlinePayload(payload.length)) this.send(encodeFrame(op, id, offsetBytes, lengthBytes, payload));
      else {
        this.send(encodeHeader(op, id, offsetBytes, lengthBytes, payload.length));
        this.send(payload);
      }
    });
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private send(buf: Buffer): void {
    if (this.blocked) {
      this.queue.push(buf);
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    if (!this.socket.write(buf)) this.blocked = true;
  }

  private onDrain(): void {
    this.blocked = false;
    let i = 0;
    while (i < this.queue.length && !this.blocked) this.send(this.queue[i++] as Buffer);
    this.queue.splice(0, i);
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      const f = this.decoder.next();
      if (f === null) return;
      if (f instanceof ProtocolError) return this.fail(new TransportError(`replica ${this.address}: ${f.message}`, { cause: f }));
      const err = this.onFrame(f);
      if (err !== null) return this.fail(new TransportError(`replica ${this.address}: ${err.message}`, { cause: err }));
    }
  }

  private onFrame(f: Frame): ProtocolError | null {
    const p = this.pending.get(f.requestId);
    if (p === undefined) return new ProtocolError(`reply ${opName(f.op)} to unknown request ${f.requestId}`);
    this.pending.delete(f.requestId);
    if (f.op === Op.Error) {
      const e = decodeErrorPayload(f.payload);
      if (E.isLeft(e)) return e.left;
      p.reject(new ReplicaError(e.right.code, `replica ${this.address}: ${e.right.message}`));
      return null;
    }
    if (f.op !== Op.Response) return new ProtocolError(`unexpected ${opName(f.op)} from the replica`);
    switch (p.op) {
      case Op.Read:
      case Op.ReadRanges:
        if (f.payload.length !== p.replyBytes) return new ProtocolError(`${opName(p.op)} reply of ${f.payload.length} bytes, expected ${p.replyBytes}`);
        if (p.dst === undefined) p.resolve(f.payload as never);
        else {
          if (f.payload !== p.dst) f.payload.copy(p.dst);
          p.resolve(undefined as never);
        }
        return null;
      case Op.Info: {
        const r = decodeInfo(f.payload);
        if (E.isLeft(r)) return r.left;
        p.resolve(r.right as never);
        return null;
      }
      case Op.AllocatedRanges: {
        const r = decodeRanges(f.payload);
        if (E.isLeft(r)) return r.left;
        p.resolve(r.right as never);
        return null;
      }
      default:
        p.resolve(undefined as never);
        return null;
    }
  }

  private fail(err: Error): void {
    if (this.dead !== null) return;
    this.dead = err;
    this.socket.destroy();
    this.queue.length = 0;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
    this.resolveClosed(err);
  }
}
