import * as E from 'fp-ts/Either';
import { MAX_IO_BYTES, Op, RANGE_BYTES, opName } from '../wire/header.ts';
import { ProtocolError, type ErrnoName } from '../wire/errors.ts';
import type { Frame } from '../wire/frame-decoder.ts';
import type { ByteRange } from './connection.ts';
import { checkVolumeSize } from './metadata.ts';
import { decodeRanges, decodeRevision, decodeSetExtra } from '../wire/payloads.ts';

/** A data request the replica will carry out, decoded and checked against the volume's geometry. */
export type ReplicaRequest =
  | { readonly op: typeof Op.Read; readonly offsetBytes: number; readonly lengthBytes: number }
  | { readonly op: typeof Op.Write; readonly offsetBytes: number; readonly data: Buffer }
  | { readonly op: typeof Op.Unmap; readonly offsetBytes: number; readonly lengthBytes: number }
  | { readonly op: typeof Op.Flush | typeof Op.Ping | typeof Op.Info }
  | { readonly op: typeof Op.AllocatedRanges; readonly offsetBytes: number; readonly lengthBytes: number }
  | { readonly op: typeof Op.ReadRanges; readonly ranges: ByteRange[]; readonly totalBytes: number }
  | { readonly op: typeof Op.SetRebuilding; readonly rebuilding: boolean }
  | { readonly op: typeof Op.SetRevision; readonly revision: string }
  | { readonly op: typeof Op.SetExtra; readonly key: string; readonly value: string | null }
  | { readonly op: typeof Op.Expand; readonly sizeBytes: number };

/** A well-framed request with bad arguments: answered with an error response, the connection lives. */
export interface RequestRejection {
  readonly _tag: 'RequestRejection';
  readonly code: ErrnoName;
  readonly message: string;
}

/** Most ranges in one bulk read (4 MiB in 1 KiB pieces). */
export const MAX_BULK_RANGES = 4096;

/** Longest extra key, in bytes. */
export const MAX_EXTRA_KEY_BYTES = 256;
/** Largest extra value, in bytes. */
export const MAX_EXTRA_VALUE_BYTES = 1024 * 1024;

function reject(code: ErrnoName, message: string): E.Either<RequestRejection, never> {
  return E.left({ _tag: 'RequestRejection', code, message });
}

/** Checks that [offset, offset+length) is sector-aligned and inside the volume. */
export function checkRange(offsetBytes: number, lengthBytes: number, sizeBytes: number, sectorBytes: number): RequestRejection | null {
  if (offsetBytes % sectorBytes !== 0 || lengthBytes % sectorBytes !== 0) return { _tag: 'RequestRejection', code: 'EINVAL', message: `offset ${offsetBytes} and length ${lengthBytes} must be multiples of ${sectorBytes}` };
  if (offsetBytes + lengthBytes > sizeBytes) return { _tag: 'RequestRejection', code: 'ERANGE', message: `range ${offsetBytes}+${lengthBytes} is past the end of the volume (${sizeBytes} bytes)` };
  return null;
}

function ranged<R>(f: Frame, sizeBytes: number, sectorBytes: number, make: () => R): E.Either<RequestRejection, R> {
  const bad = checkRange(f.offsetBytes, f.lengthBytes, sizeBytes, sectorBytes);
  return bad === null ? E.right(make()) : E.left(bad);
}

/**
 * Decodes an authenticated client's frame into a request. A ProtocolError (the frame is not a
 * request this protocol allows: wrong direction, payload of the wrong shape, lengths past limits)
 * closes the connection; a RequestRejection is answered with an error response.
 */
/** A protocol error when a frame of an op that takes no payload carries one. */
function noPayload(f: Frame): ProtocolError | null {
  return f.payloadBytes === 0 ? null : new ProtocolError(`${opName(f.op)} carries a payload of ${f.payloadBytes} bytes`);
}

export function decodeRequest(f: Frame, sizeBytes: number, sectorBytes: number): ProtocolError | E.Either<RequestRejection, ReplicaRequest> {
  switch (f.op) {
    case Op.Read:
      if (f.lengthBytes > MAX_IO_BYTES) return new ProtocolError(`read of ${f.lengthBytes} bytes exceeds the limit of ${MAX_IO_BYTES}`);
      return noPayload(f) ?? ranged(f, sizeBytes, sectorBytes, () => ({ op: Op.Read, offsetBytes: f.offsetBytes, lengthBytes: f.lengthBytes }));
    case Op.Write:
      if (f.lengthBytes !== f.payloadBytes) return new ProtocolError(`write length ${f.lengthBytes} differs from its payload of ${f.payloadBytes} bytes`);
      return ranged(f, sizeBytes, sectorBytes, () => ({ op: Op.Write, offsetBytes: f.offsetBytes, data: f.payload }));
    case Op.Unmap:
      return noPayload(f) ?? ranged(f, sizeBytes, sectorBytes, () => ({ op: Op.Unmap, offsetBytes: f.offsetBytes, lengthBytes: f.lengthBytes }));
    case Op.AllocatedRanges:
      return noPayload(f) ?? ranged(f, sizeBytes, sectorBytes, () => ({ op: Op.AllocatedRanges, offsetBytes: f.offsetBytes, lengthBytes: f.lengthBytes }));
    case Op.Flush:
    case Op.Ping:
    case Op.Info:
      return noPayload(f) ?? E.right({ op: f.op });
    case Op.ReadRanges: {
      if (f.payloadBytes > MAX_BULK_RANGES * RANGE_BYTES) return new ProtocolError(`bulk read of more than ${MAX_BULK_RANGES} ranges`);
      const r = decodeRanges(f.payload);
      if (E.isLeft(r)) return r.left;
      let totalBytes = 0;
      for (const range of r.right) {
        const bad = checkRange(range.offsetBytes, range.lengthBytes, sizeBytes, sectorBytes);
        if (bad !== null) return E.left(bad);
        totalBytes += range.lengthBytes;
      }
      if (totalBytes > MAX_IO_BYTES) return new ProtocolError(`bulk read of ${totalBytes} bytes exceeds the limit of ${MAX_IO_BYTES}`);
      if (totalBytes !== f.lengthBytes) return new ProtocolError(`bulk read length ${f.lengthBytes} differs from its ranges' ${totalBytes} bytes`);
      return E.right({ op: Op.ReadRanges, ranges: r.right, totalBytes });
    }
    case Op.SetRebuilding:
      if (f.payloadBytes !== 1 || (f.payload[0] !== 0 && f.payload[0] !== 1)) return new ProtocolError('set-rebuilding takes one byte, 0 or 1');
      return E.right({ op: Op.SetRebuilding, rebuilding: f.payload[0] === 1 });
    case Op.SetRevision: {
      const r = decodeRevision(f.payload);
      if (E.isLeft(r)) return reject('EINVAL', r.left.message);
      if (BigInt(r.right) > BigInt(Number.MAX_SAFE_INTEGER)) return reject('EINVAL', `revision ${r.right} exceeds 2^53-1`);
      return E.right({ op: Op.SetRevision, revision: r.right });
    }
    case Op.SetExtra: {
      const r = decodeSetExtra(f.payload);
      if (E.isLeft(r)) return reject('EINVAL', r.left.message);
      const { key, value } = r.right;
      if (key === '' || Buffer.byteLength(key) > MAX_EXTRA_KEY_BYTES) return reject('EINVAL', `extra key must be 1 to ${MAX_EXTRA_KEY_BYTES} bytes`);
      if (value !== null && Buffer.byteLength(value) > MAX_EXTRA_VALUE_BYTES) return reject('EINVAL', `extra value must be at most ${MAX_EXTRA_VALUE_BYTES} bytes`);
      return E.right({ op: Op.SetExtra, key, value });
    }
    case Op.Expand: {
      const bad = noPayload(f);
      if (bad !== null) return bad;
      const rule = checkVolumeSize(f.offsetBytes);
      if (rule !== null) return reject('EINVAL', `expand to ${f.offsetBytes} bytes: the size ${rule}`);
      if (f.offsetBytes < sizeBytes) return reject('EINVAL', `expand to ${f.offsetBytes} bytes: the volume is ${sizeBytes} bytes and cannot shrink`);
      return E.right({ op: Op.Expand, sizeBytes: f.offsetBytes });
    }
    default:
      return new ProtocolError(`${opName(f.op)} is not a request`);
  }
}
