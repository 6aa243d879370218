import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { RANGE_BYTES, readSafeU64 } from './header.ts';
import { ProtocolError, errnoName, type ErrnoName } from './errors.ts';
import type { ByteRange, ReplicaInfo } from '../replica/connection.ts';
import { decode, formatInputError } from '../../api/decode.ts';

/** Pure decoders of the payloads that are not raw data. Each returns Either<ProtocolError, A>. */

/** Decodes (u64 offset, u64 length) pairs. */
export function decodeRanges(payload: Buffer): E.Either<ProtocolError, ByteRange[]> {
  if (payload.length % RANGE_BYTES !== 0) return E.left(new ProtocolError(`ranges payload of ${payload.length} bytes is not a multiple of ${RANGE_BYTES}`));
  const out: ByteRange[] = [];
  for (let at = 0; at < payload.length; at += RANGE_BYTES) {
    const offsetBytes = readSafeU64(payload, at);
    const lengthBytes = readSafeU64(payload, at + 8);
    if (offsetBytes < 0 || lengthBytes < 0) return E.left(new ProtocolError('range beyond 2^53'));
    out.push({ offsetBytes, lengthBytes });
  }
  return E.right(out);
}

/** Decodes an Error response payload. */
export function decodeErrorPayload(payload: Buffer): E.Either<ProtocolError, { code: ErrnoName; message: string }> {
  if (payload.length < 2) return E.left(new ProtocolError('error payload shorter than its errno'));
  return E.right({ code: errnoName(payload.readUInt16BE(0)), message: payload.toString('utf8', 2) });
}

/** The Info reply, as JSON. */
export const ReplicaInfoCodec = t.type({
  replicaId: t.string,
  sizeBytes: t.number,
  sectorBytes: t.number,
  revision: t.string,
  chain: t.array(t.string),
  dirty: t.boolean,
  rebuilding: t.boolean,
  extras: t.record(t.string, t.string),
});

/** Decodes an Info reply. */
export function decodeInfo(payload: Buffer): E.Either<ProtocolError, ReplicaInfo> {
  return decodeJson(payload, ReplicaInfoCodec, 'info reply');
}

/** The SetExtra request, as JSON. */
export const SetExtra = t.type({ key: t.string, value: t.union([t.string, t.null]) });
/** A decoded SetExtra request. */
export type SetExtra = t.TypeOf<typeof SetExtra>;

/** Decodes a SetExtra request payload. */
export function decodeSetExtra(payload: Buffer): E.Either<ProtocolError, SetExtra> {
  return decodeJson(payload, SetExtra, 'set-extra request');
}

/** Decodes a SetRevision payload: a decimal count. */
export function decodeRevision(payload: Buffer): E.Either<ProtocolError, string> {
  const s = payload.toString('latin1');
  return /^(0|[1-9][0-9]{0,19})$/.test(s) ? E.right(s) : E.left(new ProtocolError(`revision "${s.slice(0, 30)}" is not a decimal count`));
}

function decodeJson<A>(payload: Buffer, codec: t.Type<A, unknown, unknown>, what: string): E.Either<ProtocolError, A> {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return E.left(new ProtocolError(`${what} is not JSON: ${(e as Error).message}`));
  }
  const r = decode(codec, raw);
  return E.isLeft(r) ? E.left(new ProtocolError(`${what}: ${formatInputError(r.left)}`)) : E.right(r.right);
}
