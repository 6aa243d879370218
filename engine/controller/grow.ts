import * as E from 'fp-ts/Either';
import type { ReplicaConnection, ReplicaInfo } from '../replica/connection.ts';
import type { Engine } from './engine.ts';
import { withTimeout, type ControlError } from './errors.ts';

/**
 * A replica smaller than the volume (it was away while the volume grew, or the engine was started
 * with a larger size: offline expansion) grows to the volume's size before it joins. Growing is
 * idempotent and touches no data, so it is safe whatever the replica's state.
 */
export async function growToVolume(engine: Engine, address: string, conn: ReplicaConnection, info: ReplicaInfo): Promise<E.Either<ControlError, ReplicaInfo>> {
  const want = engine.sizeBytes;
  if (info.sizeBytes >= want) return E.right(info);
  try {
    await withTimeout(conn.expand(want), engine.opts.timeoutMs, `expanding ${address}`);
  } catch (e) {
    return E.left({ _tag: 'Incompatible', address, reason: `it is ${info.sizeBytes} bytes and could not grow to the volume's ${want}: ${(e as Error).message}` });
  }
  engine.log.info(`replica ${address} grown from ${info.sizeBytes} to ${want} bytes to match the volume`, { replica: address, fromBytes: info.sizeBytes, sizeBytes: want });
  return E.right({ ...info, sizeBytes: want });
}
