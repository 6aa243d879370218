import type { Socket } from 'node:net';
import * as E from 'fp-ts/Either';
import { FrameDecoder, type Frame } from './frame-decoder.ts';
import { Op, opName } from './header.ts';
import { encodeFrame } from './encode.ts';
import { NONCE_BYTES, PROOF_BYTES, clientProof, isSameProof, makeNonce, serverProof } from './auth.ts';
import { ProtocolError, ReplicaError, TransportError } from './errors.ts';
import { decodeErrorPayload } from './payloads.ts';

/**
 * The client half of the authentication exchange (see auth.ts) on a connected socket: waits for
 * the server's Challenge, answers with its proof, checks the server's proof in AuthOk. Resolves
 * once authenticated; rejects with ReplicaError EACCES (refused), ProtocolError (not a replica, or
 * an impostor) or TransportError (closed, timed out). Leaves the socket's 'data' listener removed.
 */
export function clientHandshake(socket: Socket, decoder: FrameDecoder, secret: Buffer, deadlineMs: number, address: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let clientNonce: Buffer | null = null;
    let serverNonce: Buffer | null = null;
    const timer = setTimeout(() => finish(new TransportError(`replica ${address}: authentication timed out after ${deadlineMs} ms`)), deadlineMs);
    const finish = (err: Error | null) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (err === null) resolve();
      else {
        socket.destroy();
        reject(err);
      }
    };
    const onFrame = (f: Frame): Error | 'done' | null => {
      if (f.op === Op.Challenge && serverNonce === null) {
        if (f.payload.length !== NONCE_BYTES) return new ProtocolError(`replica ${address}: challenge of ${f.payload.length} bytes`);
        serverNonce = Buffer.from(f.payload);
        clientNonce = makeNonce();
        const proof = clientProof(secret, serverNonce, clientNonce);
        socket.write(encodeFrame(Op.Auth, 0, 0, 0, Buffer.concat([clientNonce, proof])));
        return null;
      }
      if (f.op === Op.AuthOk && serverNonce !== null && clientNonce !== null) {
        if (f.payload.length !== PROOF_BYTES || !isSameProof(f.payload, serverProof(secret, serverNonce, clientNonce))) {
          return new ProtocolError(`replica ${address}: the server could not prove the volume secret`);
        }
        return 'done';
      }
      if (f.op === Op.Error) {
        const e = decodeErrorPayload(f.payload);
        return E.isLeft(e) ? e.left : new ReplicaError(e.right.code, `replica ${address}: ${e.right.message}`);
      }
      return new ProtocolError(`replica ${address}: unexpected ${opName(f.op)} during authentication`);
    };
    const onData = (chunk: Buffer) => {
      decoder.push(chunk);
      for (;;) {
        const f = decoder.next();
        if (f === null) return;
        if (f instanceof ProtocolError) return finish(new ProtocolError(`replica ${address}: ${f.message}`));
        const r = onFrame(f);
        if (r === 'done') return finish(null);
        if (r !== null) return finish(r);
      }
    };
    const onClose = () => finish(new TransportError(`replica ${address}: connection closed during authentication`));
    const onError = (e: Error) => finish(new TransportError(`replica ${address}: ${e.message}`, { cause: e }));
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

