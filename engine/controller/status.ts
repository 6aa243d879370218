import * as t from 'io-ts';
import type { Engine } from './engine.ts';
import { withTimeout } from './errors.ts';
import type { ReplicaHandle } from './replica-handle.ts';

/**
 * The engine's status as the control API shows it, and its codec (the CLI decodes what it gets).
 */

const RebuildStatus = t.type({
  kind: t.union([t.literal('full'), t.literal('delta')]),
  source: t.string,
  doneBytes: t.number,
  totalBytes: t.number,
  skippedBytes: t.number,
  bytesPerSecond: t.number,
  elapsedSeconds: t.number,
  finished: t.boolean,
});

/** One replica's line of status. */
export const ReplicaStatus = t.intersection([
  t.type({ address: t.string, mode: t.union([t.literal('RW'), t.literal('WO'), t.literal('ERR')]) }),
  t.partial({ replicaId: t.string, revision: t.string, cause: t.string, rebuild: RebuildStatus }),
]);
export type ReplicaStatus = t.TypeOf<typeof ReplicaStatus>;

/** GET /v1/status. */
export const EngineStatus = t.type({ volume: t.string, sizeBytes: t.number, replicas: t.array(ReplicaStatus) });
export type EngineStatus = t.TypeOf<typeof EngineStatus>;

function replicaStatus(h: ReplicaHandle, revision: string | undefined): ReplicaStatus {
  const r = h.rebuild;
  return {
    address: h.address,
    mode: h.mode,
    ...(h.info !== undefined ? { replicaId: h.info.replicaId } : {}),
    ...(revision !== undefined ? { revision } : {}),
    ...(h.mode === 'ERR' && h.cause !== undefined ? { cause: `replica ${h.address}: ${h.cause.message}` } : {}),
    ...(r !== undefined
      ? { rebuild: { kind: r.kind, source: r.source, doneBytes: r.doneBytes, totalBytes: r.totalBytes, skippedBytes: r.skippedBytes, bytesPerSecond: r.bytesPerSecond, elapsedSeconds: ((r.finishedMs ?? Date.now()) - r.startedMs) / 1000, finished: h.mode === 'RW' } }
      : {}),
  };
}

/** The status now; revisions are asked of live replicas (bounded at 1 s), else the last known. */
export async function engineStatus(engine: Engine): Promise<EngineStatus> {
  const revisions = await Promise.all(
    engine.replicas.map(async (h) => {
      if (h.mode === 'ERR') return h.info?.revision;
      try {
        return (await withTimeout(h.call('info', 0, (c) => c.info()), 1000, 'info')).revision;
      } catch {
        return h.info?.revision;
      }
    }),
  );
  return { volume: engine.opts.volume, sizeBytes: engine.sizeBytes, replicas: engine.replicas.map((h, i) => replicaStatus(h, revisions[i])) };
}
