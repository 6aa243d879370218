import * as E from 'fp-ts/Either';
import type { ReplicaInfo } from '../replica/connection.ts';
import type { Engine } from './engine.ts';
import { withTimeout, type ControlError } from './errors.ts';
import { growToVolume } from './grow.ts';
import { joinWriteOnly, runRebuild, type RebuildPlan } from './rebuild.ts';
import type { ReplicaHandle } from './replica-handle.ts';

/**
 * Joining and leaving the replica set: connect and vet a replica, decide delta or full rebuild,
 * start the rebuild in the background, remove a replica.
 */

/** Why a replica's info rules it out of this volume, if it does. */
export function incompatibility(engine: Engine, info: ReplicaInfo): string | undefined {
  if (info.sizeBytes > engine.sizeBytes) return `its size is ${info.sizeBytes} bytes, larger than the volume's ${engine.sizeBytes} (a volume never shrinks; if an expansion to ${info.sizeBytes} bytes did not finish, start the engine with that size)`;
  if (info.sectorBytes !== engine.blockSizeBytes) return `its sector is ${info.sectorBytes} bytes, the engine's is ${engine.blockSizeBytes}`;
  if (!/^\d+$/.test(info.revision)) return `its revision "${info.revision}" is not a decimal count`;
  return undefined;
}

/**
 * Delta when the engine holds a record of what this replica missed and its data is intact: same
 * replica id, not mid-rebuild, and a revision no higher than it could have had when it left (a
 * higher one means something else wrote to it). Otherwise full.
 */
export function planRebuild(engine: Engine, info: ReplicaInfo): { plan: RebuildPlan; why: string } {
  const rec = engine.dirty.records.get(info.replicaId);
  if (rec === undefined) return { plan: { kind: 'full' }, why: 'no record of what it missed' };
  if (info.rebuilding) return { plan: { kind: 'full' }, why: 'it was mid-rebuild' };
  if (BigInt(info.revision) > rec.revisionMax) return { plan: { kind: 'full' }, why: `its revision ${info.revision} is beyond the ${rec.revisionMax} it could have had` };
  return { plan: { kind: 'delta', regions: rec.regions }, why: `${rec.regions.count()} region(s) of ${rec.regions.regionBytes} bytes written while it was away` };
}

/** A healthy source: RW and never itself mid-rebuild. */
export function pickSource(engine: Engine, not: ReplicaHandle): ReplicaHandle | undefined {
  const rw = engine.replicas.filter((h) => h !== not && h.mode === 'RW' && h.info?.rebuilding !== true);
  return rw.sort((a, b) => a.outstanding - b.outstanding)[0];
}

/** Connects a handle and reads its info (bounded by the I/O timeout). */
export async function connectHandle(engine: Engine, h: ReplicaHandle): Promise<E.Either<ControlError, ReplicaInfo>> {
  let conn;
  try {
    conn = await withTimeout(engine.opts.connect(h.address), engine.opts.timeoutMs, `connecting to ${h.address}`);
  } catch (e) {
    return E.left({ _tag: 'Unreachable', address: h.address, cause: (e as Error).message });
  }
  let info: ReplicaInfo;
  try {
    info = await withTimeout(conn.info(), engine.opts.timeoutMs, `info from ${h.address}`);
  } catch (e) {
    conn.close();
    return E.left({ _tag: 'Unreachable', address: h.address, cause: (e as Error).message });
  }
  const bad = incompatibility(engine, info);
  const twin = engine.replicas.find((o) => o !== h && o.mode !== 'ERR' && o.replicaId === info.replicaId);
  const why = bad ?? (twin !== undefined ? `it is the same store (${info.replicaId}) as ${twin.address}` : undefined);
  if (why !== undefined) {
    conn.close();
    return E.left({ _tag: 'Incompatible', address: h.address, reason: why });
  }
  const grown = await growToVolume(engine, h.address, conn, info);
  if (E.isLeft(grown)) {
    conn.close();
    return grown;
  }
  h.conn = conn;
  h.info = grown.right;
  h.mutationsSent = 0;
  return E.right(grown.right);
}


/** Joins a connected handle WO and rebuilds it in the background; the promise is the rebuild. */
export async function startRebuild(engine: Engine, h: ReplicaHandle, plan: RebuildPlan, why: string): Promise<E.Either<ControlError, Promise<void>>> {
  const source = pickSource(engine, h);
  if (source === undefined) {
    h.conn?.close();
    h.conn = undefined;
    return E.left({ _tag: 'NoSource', address: h.address });
  }
  const joined = await joinWriteOnly(engine, h);
  if (E.isLeft(joined)) {
    h.conn?.close();
    h.conn = undefined;
    return joined;
  }
  const mask = joined.right;
  engine.log.info(`replica ${h.address} joined WO; ${plan.kind} rebuild from ${source.address} (${why})`, { replica: h.address, source: source.address, kind: plan.kind });
  const done = runRebuild(engine, h, source, mask, plan).then(
    async () => {
      const p = h.rebuild;
      engine.log.info(`replica ${h.address} rebuilt (${plan.kind}, ${p?.totalBytes ?? 0} bytes) and is RW`, { replica: h.address, kind: plan.kind, bytes: p?.totalBytes, ms: p ? Date.now() - p.startedMs : undefined });
      if (h.info !== undefined) await engine.dirty.drop(h.info.replicaId).catch(() => undefined);
      engine.events.emit('rebuild', h, undefined);
    },
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      if (h.rebuild !== undefined) h.rebuild.finishedMs = Date.now();
      engine.setErr(h, new Error(`rebuild from ${source.address} failed: ${err.message}`, { cause: err }));
      engine.events.emit('rebuild', h, err);
    },
  );
  return E.right(done);
}

/** add-replica: a new or returning replica joins WO and is rebuilt (delta when it can be). */
export async function addReplica(engine: Engine, address: string): Promise<E.Either<ControlError, { kind: 'full' | 'delta'; done: Promise<void> }>> {
  const existing = engine.find(address);
  if (existing !== undefined && existing.mode !== 'ERR') return E.left({ _tag: 'AlreadyPresent', address, mode: existing.mode });
  if (engine.joining.has(address)) return E.left({ _tag: 'AlreadyPresent', address, mode: 'joining' });
  engine.joining.add(address);
  try {
    const h = existing ?? engine.newHandle(address);
    const c = await connectHandle(engine, h);
    if (E.isLeft(c)) return c;
    const { plan, why } = planRebuild(engine, c.right);
    const r = await startRebuild(engine, h, plan, why);
    if (E.isLeft(r)) return r;
    return E.right({ kind: plan.kind, done: r.right });
  } finally {
    engine.joining.delete(address);
  }
}

/** remove-replica: drops it from the set and forgets what it missed. Refuses to remove the last RW replica. */
export async function removeReplica(engine: Engine, address: string): Promise<E.Either<ControlError, void>> {
  const h = engine.find(address);
  if (h === undefined) return E.left({ _tag: 'NotFound', address });
  const rwLeft = engine.replicas.filter((o) => o !== h && o.mode === 'RW').length;
  if (h.mode === 'RW' && rwLeft === 0) return E.left({ _tag: 'LastReplica', address });
  engine.forget(h);
  engine.log.info(`replica ${address} removed`, { replica: address });
  if (h.info !== undefined) await engine.dirty.drop(h.info.replicaId).catch(() => undefined);
  return E.right(undefined);
}
