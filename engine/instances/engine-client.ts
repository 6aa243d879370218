import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decode, formatInputError } from '../../api/decode.ts';

/**
 * The node agent's client of an engine's control API (`shorthorn engine serve --control`):
 * GET /v1/status, POST /v1/replicas {address}, DELETE /v1/replicas/:address, POST /v1/expand.
 */

const Numberish = t.union([t.number, t.string]);

/** One replica as the engine reports it. Unknown fields pass through. */
export const EngineReplicaStatus = t.intersection([
  t.type({ address: t.string, mode: t.string }),
  t.partial({
    revision: Numberish,
    /** Why the replica is ERR. */
    cause: t.string,
    rebuild: t.union([
      t.null,
      t.partial({ state: t.string, finished: t.boolean, doneBytes: Numberish, totalBytes: Numberish, bytesDone: Numberish, bytesTotal: Numberish, kind: t.string, error: t.string }),
    ]),
  }),
]);
/** One replica as the engine reports it. */
export type EngineReplicaStatus = t.TypeOf<typeof EngineReplicaStatus>;

/** The engine's status answer. */
export const EngineControlStatus = t.intersection([t.type({ replicas: t.array(EngineReplicaStatus) }), t.partial({ sizeBytes: t.number })]);
/** The engine's status answer. */
export type EngineControlStatus = t.TypeOf<typeof EngineControlStatus>;

/** A control API call that did not work: unreachable, refused, or an answer we could not read. */
export interface ControlCallError {
  readonly _tag: 'ControlCallError';
  readonly message: string;
}

const fail = (message: string): E.Either<ControlCallError, never> => E.left({ _tag: 'ControlCallError', message });

async function call(control: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<E.Either<ControlCallError, unknown>> {
  let res: Response;
  try {
    res = await fetch(`http://${control}${path}`, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
  } catch (e) {
    return fail(`${method} ${path} on ${control}: ${(e as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = text;
  }
  if (!res.ok) {
    const msg = typeof json === 'object' && json !== null && 'error' in json ? String((json as { error: unknown }).error) : text.slice(0, 200);
    return fail(`${method} ${path} on ${control}: HTTP ${res.status}: ${msg}`);
  }
  return E.right(json);
}

/** GET /v1/status, decoded. */
export async function getEngineStatus(control: string, timeoutMs = 2000): Promise<E.Either<ControlCallError, EngineControlStatus>> {
  const r = await call(control, 'GET', '/v1/status', undefined, timeoutMs);
  if (E.isLeft(r)) return r;
  const d = decode(EngineControlStatus, r.right);
  if (E.isLeft(d)) return fail(`engine status from ${control}: ${formatInputError(d.left)}`);
  return E.right(d.right);
}

/** POST /v1/replicas: adds a replica (the engine rebuilds it). */
export async function addEngineReplica(control: string, address: string, timeoutMs = 5000): Promise<E.Either<ControlCallError, void>> {
  const r = await call(control, 'POST', '/v1/replicas', { address }, timeoutMs);
  return E.isLeft(r) ? r : E.right(undefined);
}

/** DELETE /v1/replicas/:address: removes a replica from the engine. */
export async function removeEngineReplica(control: string, address: string, timeoutMs = 5000): Promise<E.Either<ControlCallError, void>> {
  const r = await call(control, 'DELETE', `/v1/replicas/${encodeURIComponent(address)}`, undefined, timeoutMs);
  return E.isLeft(r) ? r : E.right(undefined);
}

/** POST /v1/expand: grows the volume (every healthy replica, then the engine's size). */
export async function expandEngine(control: string, sizeBytes: number, timeoutMs = 30_000): Promise<E.Either<ControlCallError, void>> {
  const r = await call(control, 'POST', '/v1/expand', { sizeBytes }, timeoutMs);
  return E.isLeft(r) ? r : E.right(undefined);
}
