import type { Socket } from 'node:net';
import * as E from 'fp-ts/Either';
import type { Logger } from '../../api/log.ts';
import { FrameDecoder, type Frame } from '../wire/frame-decoder.ts';
import { MAX_PAYLOAD_BYTES, MAX_PREAUTH_PAYLOAD_BYTES, MAX_RANGES_PER_REPLY, Op, opName } from '../wire/header.ts';
import { encodeErrorResponse, encodeFrame, encodeHeader, encodeRanges, isInlinePayload } from '../wire/encode.ts';
import { ProtocolError, ReplicaError, type ErrnoName } from '../wire/errors.ts';
import { NONCE_BYTES, PROOF_BYTES, clientProof, isSameProof, makeNonce, serverProof } from '../wire/auth.ts';
import { decodeRequest, type ReplicaRequest } from './request.ts';
import { BufferPool, MIN_POOLED_BYTES } from '../io/buffer-pool.ts';
import { receiveIntoBuffer } from '../io/static-read.ts';
import type { ReplicaBackend } from './backend.ts';

/** Limits of one connection. */
export interface SessionLimits {
  /** Time a client has to authenticate. */
  readonly authTimeoutMs: number;
  /** Requests in flight above which the socket stops being read. */
  readonly maxInFlight: number;
}

/** Stop reading while requests in flight, or replies awaiting the socket, hold this many bytes. */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
/** The most memory a connection keeps in recycled write payloads while idle. */
const PAYLOAD_POOL_IDLE_BYTES = 32 * 1024 * 1024;
/**
 * The reused receive buffer of a connection: 64 KiB, as Node's own reads. With 256 KiB a replica
 * took a whole QD32 burst of 4 KiB writes in one read and answered it all at once, so the engine
 * and the replica took turns instead of overlapping (-30% writes/s).
 */
const RX_BUFFER_BYTES = 64 * 1024;

type State = 'challenged' | 'ready' | 'closed';

/**
 * One client connection of the replica server. States: 'challenged' (Challenge sent, only Auth is
 * accepted, payloads capped at 64 bytes) → 'ready' (data ops) → 'closed'. A protocol violation
 * closes this connection with a logged reason and nothing else. Backpressure: the socket is paused
 * while too many requests are in flight or while socket.write() has said false and 'drain' has not come.
 */
export class ReplicaSession {
  private state: State = 'challenged';
  /** Write payloads the decoder assembles and read replies: taken here, given back once unused. */
  private readonly payloads = new BufferPool(PAYLOAD_POOL_IDLE_BYTES);
  private readonly decoder: FrameDecoder;
  private readonly serverNonce = makeNonce();
  private readonly authTimer: NodeJS.Timeout;
  private inFlight = 0;
  /** Data bytes held by requests in flight (write payloads, read replies to come). */
  private inFlightBytes = 0;
  private writeBlocked = false;
  private corked = false;
  private paused = false;
  private readonly remote: string;

  constructor(
    private readonly socket: Socket,
    private readonly backend: ReplicaBackend,
    private readonly secret: Buffer,
    private readonly log: Logger,
    private readonly limits: SessionLimits,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    // Reads go into one reused buffer (engine/io/static-read.ts): a new 64 KiB ArrayBuffer per read
    // was, with its page faults and the collections its external memory set off, the larger part
    // of a replica's CPU under 1 MiB writes. Then every payload is copied out of it into a pooled
    // buffer, and what a read leaves of an incomplete frame is copied before the next read.
    const rx = Buffer.allocUnsafe(RX_BUFFER_BYTES);
    const reused = receiveIntoBuffer(socket, rx, (chunk) => {
      this.onData(chunk);
      this.decoder.endChunk();
    });
    this.decoder = new FrameDecoder(MAX_PREAUTH_PAYLOAD_BYTES, { payloadBuffer: (n) => this.payloads.take(n), copyPayloads: reused });
    if (!reused) socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.updateFlow();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => {
      if (this.state !== 'closed' && this.decoder.bufferedBytes > 0) this.log.warn('connection closed: truncated frame', { remote: this.remote, bufferedBytes: this.decoder.bufferedBytes });
      this.close();
    });
    this.authTimer = setTimeout(() => this.refuse('authentication timed out'), limits.authTimeoutMs);
    socket.write(encodeFrame(Op.Challenge, 0, 0, 0, this.serverNonce));
    // Accepted paused (the server's pauseOnConnect) so that nothing was read before the path was set.
    socket.resume();
  }

  /** Whether the client has authenticated. */
  get isAuthenticated(): boolean {
    return this.state === 'ready';
  }

  /** Closes the connection (server shutdown). */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.authTimer);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    while (this.state !== 'closed') {
      const f = this.decoder.next();
      if (f === null) return;
      if (f instanceof ProtocolError) return this.drop(f.message);
      if (this.state === 'challenged') this.onAuth(f);
      else this.onRequest(f);
    }
  }

  private onAuth(f: Frame): void {
    if (f.op !== Op.Auth) return this.refuse(`${opName(f.op)} before authentication`);
    if (f.payload.length !== NONCE_BYTES + PROOF_BYTES) return this.refuse(`auth payload of ${f.payload.length} bytes`);
    const clientNonce = f.payload.subarray(0, NONCE_BYTES);
    const proof = f.payload.subarray(NONCE_BYTES);
    if (!isSameProof(proof, clientProof(this.secret, this.serverNonce, clientNonce))) return this.refuse('wrong secret');
    clearTimeout(this.authTimer);
    this.state = 'ready';
    this.decoder.setMaxPayload(MAX_PAYLOAD_BYTES);
    this.log.info('client authenticated', { remote: this.remote });
    this.socket.write(encodeFrame(Op.AuthOk, f.requestId, 0, 0, serverProof(this.secret, this.serverNonce, clientNonce)));
  }

  private onRequest(f: Frame): void {
    const r = decodeRequest(f, this.backend.sizeBytes, this.backend.sectorBytes);
    if (r instanceof ProtocolError) return this.drop(r.message);
    if (E.isLeft(r)) return this.reply(encodeErrorResponse(f.requestId, r.left.code, `${opName(f.op)}: ${r.left.message}`));
    const bytes = f.payloadBytes + (f.op === Op.Read || f.op === Op.ReadRanges ? f.lengthBytes : 0);
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.updateFlow();
    const req = r.right;
    const readInto = this.backend.readInto;
    if (req.op === Op.Read && req.lengthBytes >= MIN_POOLED_BYTES && readInto !== undefined) {
      // A read into a pooled buffer, given back from the write callback of its reply once the
      // socket has handed it to the kernel (or dropped it, closing), never earlier: a fresh 1 MiB
      // buffer per read cost a replica more in page faults and collections than the pread itself.
      const buf = this.payloads.take(req.lengthBytes);
      // (bind, not a named arrow: tsx's keepNames would wrap that in __name on every read)
      const giveBack = this.payloads.give.bind(this.payloads, buf);
      readInto.call(this.backend, req.offsetBytes, buf).then(
        () => this.done(f.requestId, bytes, buf, null, giveBack),
        (e: unknown) => this.done(f.requestId, bytes, undefined, e, giveBack),
      );
      return;
    }
    // A write's payload that the decoder assembled goes back to the pool once the backend is done
    // with it (ReplicaBackend.write may keep `data` until its promise settles, not longer).
    const recycle = f.fromSource === true && req.op === Op.Write ? f.payload : undefined;
    this.execute(req).then(
      (payload) => {
        if (recycle !== undefined) this.payloads.give(recycle);
        this.done(f.requestId, bytes, payload, null);
      },
      (e: unknown) => {
        if (recycle !== undefined) this.payloads.give(recycle);
        this.done(f.requestId, bytes, undefined, e);
      },
    );
  }

  private async execute(req: ReplicaRequest): Promise<Buffer | undefined> {
    const b = this.backend;
    switch (req.op) {
      case Op.Read:
        return b.read(req.offsetBytes, req.lengthBytes);
      case Op.Write:
        return b.write(req.offsetBytes, req.data).then(() => undefined);
      case Op.Unmap:
        return b.unmap(req.offsetBytes, req.lengthBytes).then(() => undefined);
      case Op.Flush:
        return b.flush().then(() => undefined);
      case Op.Ping:
        return undefined;
      case Op.Info:
        return Buffer.from(JSON.stringify(b.info()), 'utf8');
      case Op.AllocatedRanges:
        return encodeRanges(b.allocatedRanges(req.offsetBytes, req.lengthBytes, MAX_RANGES_PER_REPLY));
      case Op.ReadRanges: {
        const parts = await Promise.all(req.ranges.map((r) => b.read(r.offsetBytes, r.lengthBytes)));
        return Buffer.concat(parts, req.totalBytes);
      }
      case Op.SetRebuilding:
        return b.setRebuilding(req.rebuilding).then(() => undefined);
      case Op.SetRevision:
        return b.setRevision(req.revision).then(() => undefined);
      case Op.SetExtra:
        return b.setExtra(req.key, req.value).then(() => undefined);
      case Op.Expand:
        return b.expand(req.sizeBytes).then(() => undefined);
    }
  }

  /** Answers a request; `onSent` runs once nothing refers to `payload` any more (sent, copied or dropped). */
  private done(requestId: number, bytes: number, payload: Buffer | undefined, err: unknown, onSent?: () => void): void {
    this.inFlight--;
    this.inFlightBytes -= bytes;
    if (this.state === 'closed') {
      onSent?.();
      return;
    }
    if (err === null) {
      if (payload === undefined || isInlinePayload(payload.length)) {
        this.reply(encodeFrame(Op.Response, requestId, 0, payload?.length ?? 0, payload));
        onSent?.();
      } else {
        this.reply(encodeHeader(Op.Response, requestId, 0, payload.length, payload.length));
        this.reply(payload, onSent);
      }
    } else {
      const { code, message } = this.describe(err);
      this.log.warn('request failed', { remote: this.remote, code, error: message });
      this.reply(encodeErrorResponse(requestId, code, message));
    }
    this.updateFlow();
  }

  /** Maps a backend failure to an errno and a message that names the replica. */
  private describe(err: unknown): { code: ErrnoName; message: string } {
    if (err instanceof ReplicaError) return { code: err.code, message: err.message };
    const fsCode = (err as { code?: unknown }).code;
    const text = err instanceof Error ? err.message : String(err);
    if (fsCode === 'ENOSPC') return { code: 'ENOSPC', message: `replica ${this.backend.location}: no space left on device (ENOSPC)` };
    return { code: 'EIO', message: `replica ${this.backend.location}: ${text}` };
  }

  private readonly uncork = (): void => {
    this.corked = false;
    if (this.state !== 'closed') this.socket.uncork();
  };

  /** Queues `buf` on the socket; `onSent` runs once the socket is done with it (sent, or dropped). */
  private reply(buf: Buffer, onSent?: () => void): void {
    if (this.state === 'closed') {
      onSent?.();
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    if (!this.socket.write(buf, onSent)) this.writeBlocked = true;
  }

  /** Pauses reading while too much is in flight or unsent; resumes when it has gone down. */
  private updateFlow(): void {
    if (this.state === 'closed') return;
    const busy = this.inFlight >= this.limits.maxInFlight || this.inFlightBytes >= MAX_IN_FLIGHT_BYTES || this.writeBlocked || this.socket.writableLength > MAX_IN_FLIGHT_BYTES;
    if (busy && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!busy && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Refuses an unauthenticated client: logged, answered EACCES, closed. */
  private refuse(reason: string): void {
    if (this.state === 'closed') return;
    this.log.warn('connection refused', { remote: this.remote, reason });
    this.state = 'closed';
    clearTimeout(this.authTimer);
    this.socket.end(encodeErrorResponse(0, 'EACCES', `authentication refused: ${reason}`));
    // The client normally closes on the error; a silent one is cut off.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Drops a connection that broke the protocol: logged, closed. */
  private drop(reason: string): void {
    if (this.state === 'closed') return;
    this.log.warn('connection closed: protocol violation', { remote: this.remote, reason, authenticated: this.state === 'ready' });
    this.close();
  }
}
