import * as E from 'fp-ts/Either';
import type { ByteRange } from '../replica/connection.ts';
import type { ControlError } from './errors.ts';
import { growToVolume } from './grow.ts';
import { DIRTY_EXTRA_PREFIX, encodeDirtyRecord } from './dirty-regions.ts';
import type { Engine } from './engine.ts';
import type { RegionBitmap } from './region-bitmap.ts';
import type { ReplicaHandle } from './replica-handle.ts';
import { WriteMask } from './write-mask.ts';

/**
 * Rebuild: fills a WO replica from a healthy RW one while live writes keep reaching both.
 *
 * Why the copy never overwrites a newer live write: the target joins under a barrier (every write
 * issued before it has completed on the source), and from then on every write and unmap marks a
 * sector mask. A chunk is read from the source without a lock, then written to the target under
 * the chunk's range lock, skipping every masked sector: a live write either was admitted before the
 * lock (it is masked, so skipped) or waits for the copy to finish (it lands after, so it wins).
 *
 * Unmapped state is copied too: parts allocated on the target but not on the source are unmapped.
 */

/** What to copy: everything, or only the regions written while the replica was away. */
export type RebuildPlan = { readonly kind: 'full' } | { readonly kind: 'delta'; readonly regions: RegionBitmap };

/**
 * Joins `target` (connected, not yet in the set) as WO and returns the mask its rebuild will honour.
 * Should the volume have grown since the target connected, the target grows first, under the
 * barrier, so it never misses a write past its old end.
 */
export async function joinWriteOnly(engine: Engine, target: ReplicaHandle): Promise<E.Either<ControlError, WriteMask>> {
  const barrier = await engine.lock.exclusive();
  try {
    if (target.conn !== undefined && target.info !== undefined) {
      const grown = await growToVolume(engine, target.address, target.conn, target.info);
      if (E.isLeft(grown)) return grown;
      target.info = grown.right;
    }
    const mask = new WriteMask();
    engine.masks.add(mask);
    engine.place(target, 'WO');
    return E.right(mask);
  } finally {
    barrier.release();
  }
}

/** `ranges` (sorted, non-overlapping) clipped to [start, end); binary search for the first one. */
function intersect(ranges: readonly ByteRange[], start: number, end: number): ByteRange[] {
  const out: ByteRange[] = [];
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const m = ranges[mid] as ByteRange;
    if (m.offsetBytes + m.lengthBytes <= start) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < ranges.length; i++) {
    const r = ranges[i] as ByteRange;
    if (r.offsetBytes >= end) break;
    const a = Math.max(start, r.offsetBytes);
    const b = Math.min(end, r.offsetBytes + r.lengthBytes);
    if (a < b) out.push({ offsetBytes: a, lengthBytes: b - a });
  }
  return out;
}

/** `ranges` minus `cut`, both sorted and non-overlapping within themselves. */
function subtract(ranges: readonly ByteRange[], cut: readonly ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges) {
    let pieces: ByteRange[] = [r];
    for (const c of cut) {
      const next: ByteRange[] = [];
      for (const p of pieces) {
        const pe = p.offsetBytes + p.lengthBytes;
        const ce = c.offsetBytes + c.lengthBytes;
        if (ce <= p.offsetBytes || c.offsetBytes >= pe) next.push(p);
        else {
          if (c.offsetBytes > p.offsetBytes) next.push({ offsetBytes: p.offsetBytes, lengthBytes: c.offsetBytes - p.offsetBytes });
          if (ce < pe) next.push({ offsetBytes: ce, lengthBytes: pe - ce });
        }
      }
      pieces = next;
    }
    out.push(...pieces);
  }
  return out;
}

/** Chunks of `chunkBytes` (aligned) covering the given ranges. */
function chunksOf(ranges: readonly ByteRange[], chunkBytes: number): number[] {
  const set = new Set<number>();
  for (const r of ranges) {
    const first = Math.floor(r.offsetBytes / chunkBytes);
    const last = Math.floor((r.offsetBytes + r.lengthBytes - 1) / chunkBytes);
    for (let c = first; c <= last; c++) set.add(c);
  }
  return [...set].sort((a, b) => a - b);
}

function checkAlive(target: ReplicaHandle, source: ReplicaHandle): void {
  if (target.mode !== 'WO') throw new Error(`target ${target.address} left the set: ${target.cause?.message ?? target.mode}`);
  if (source.mode !== 'RW') throw new Error(`source ${source.address} left the set: ${source.cause?.message ?? source.mode}`);
}

/** Copies one chunk from source to target, honouring the mask. Returns the bytes it moved. */
async function copyChunk(engine: Engine, target: ReplicaHandle, source: ReplicaHandle, mask: WriteMask, start: number, end: number, srcAlloc: readonly ByteRange[], tgtAlloc: readonly ByteRange[]): Promise<{ moved: number; skipped: number }> {
  checkAlive(target, source);
  const copy = intersect(srcAlloc, start, end);
  const zero = subtract(intersect(tgtAlloc, start, end), copy);
  let data: Buffer | undefined;
  if (copy.length > 0) {
    try {
      data = await source.call('read', end - start, (c) => c.readAt(start, end - start));
    } catch (e) {
      // As on the read path: a replica that fails a read leaves the set.
      engine.setErr(source, e as Error);
      throw e;
    }
  }
  const hold = await engine.lock.lock(start, end - start);
  try {
    checkAlive(target, source);
    const sends: Promise<void>[] = [];
    let moved = 0;
    let skipped = 0;
    for (const p of copy) {
      skipped += p.lengthBytes;
      for (const u of mask.unmasked(p.offsetBytes, p.lengthBytes)) {
        const piece = (data as Buffer).subarray(u.offsetBytes - start, u.offsetBytes - start + u.lengthBytes);
        moved += u.lengthBytes;
        skipped -= u.lengthBytes;
        sends.push(target.call('write', u.lengthBytes, (c) => c.writeAt(u.offsetBytes, piece)));
      }
    }
    for (const z of zero) {
      for (const u of mask.unmasked(z.offsetBytes, z.lengthBytes)) sends.push(target.call('unmap', 0, (c) => c.unmapAt(u.offsetBytes, u.lengthBytes)));
    }
    await Promise.all(sends);
    return { moved, skipped };
  } finally {
    hold.release();
  }
}

/**
 * Makes the target's delta-rebuild records those the engine holds: records written before it
 * joined are added, stale ones it kept from before it left are deleted (else a later start could
 * trust them).
 */
async function syncDirtyRecords(engine: Engine, target: ReplicaHandle): Promise<void> {
  const { extras } = await target.call('info', 0, (c) => c.info());
  for (const key of Object.keys(extras)) {
    if (key.startsWith(DIRTY_EXTRA_PREFIX) && !engine.dirty.records.has(key.slice(DIRTY_EXTRA_PREFIX.length))) await target.call('meta', 0, (c) => c.setExtra(key, null));
  }
  for (const r of engine.dirty.records.values()) {
    if (r.replicaId !== target.replicaId) await target.call('meta', 0, (c) => c.setExtra(DIRTY_EXTRA_PREFIX + r.replicaId, encodeDirtyRecord(r)));
  }
}

/**
 * Runs a rebuild of `target` (already WO, with `mask`) from `source`: marks the target rebuilding
 * durably, copies, then under a barrier flushes the target, sets its revision to the source's,
 * clears the flag and turns it RW. Rejects (leaving the target to the caller) when anything fails.
 */
export async function runRebuild(engine: Engine, target: ReplicaHandle, source: ReplicaHandle, mask: WriteMask, plan: RebuildPlan): Promise<void> {
  try {
    await copyAll(engine, target, source, mask, plan);
  } finally {
    engine.masks.delete(mask);
  }
}

async function copyAll(engine: Engine, target: ReplicaHandle, source: ReplicaHandle, mask: WriteMask, plan: RebuildPlan): Promise<void> {
  const size = engine.sizeBytes;
  const chunkBytes = engine.opts.rebuildChunkBytes;
  const startedMs = Date.now();
  const progress = { kind: plan.kind, source: source.address, doneBytes: 0, totalBytes: 0, skippedBytes: 0, startedMs, finishedMs: undefined as number | undefined, bytesPerSecond: 0 };
  target.rebuild = progress;
  await target.call('meta', 0, (c) => c.setRebuilding(true));
  const scope: ByteRange[] = plan.kind === 'full' ? [{ offsetBytes: 0, lengthBytes: size }] : plan.regions.byteRanges();
  const srcAlloc: ByteRange[] = [];
  const tgtAlloc: ByteRange[] = [];
  for (const r of scope) {
    srcAlloc.push(...(await source.call('allocated', 0, (c) => c.allocatedRanges(r.offsetBytes, r.lengthBytes))));
    tgtAlloc.push(...(await target.call('allocated', 0, (c) => c.allocatedRanges(r.offsetBytes, r.lengthBytes))));
  }
  const chunks = chunksOf([...srcAlloc, ...tgtAlloc], chunkBytes);
  progress.totalBytes = srcAlloc.reduce((n, r) => n + r.lengthBytes, 0);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const c = chunks[next++] as number;
      const start = c * chunkBytes;
      const end = Math.min(size, start + chunkBytes);
      const { moved, skipped } = await copyChunk(engine, target, source, mask, start, end, srcAlloc, tgtAlloc);
      progress.skippedBytes += skipped;
      progress.doneBytes += intersect(srcAlloc, start, end).reduce((n, r) => n + r.lengthBytes, 0);
      progress.bytesPerSecond = Math.round(progress.doneBytes / Math.max(0.001, (Date.now() - startedMs) / 1000));
      engine.metrics.addRebuildBytes(target.address, moved);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, engine.opts.rebuildParallel) }, worker));
  const barrier = await engine.lock.exclusive();
  try {
    checkAlive(target, source);
    await syncDirtyRecords(engine, target);
    await target.call('flush', 0, (c) => c.flush());
    const info = await source.call('info', 0, (c) => c.info());
    await target.call('meta', 0, (c) => c.setRevision(info.revision));
    await target.call('meta', 0, (c) => c.setRebuilding(false));
    checkAlive(target, source);
    target.info = { ...(target.info ?? info), revision: info.revision, rebuilding: false };
    target.mutationsSent = 0;
    engine.masks.delete(mask);
    engine.promote(target);
  } finally {
    barrier.release();
  }
  progress.finishedMs = Date.now();
  progress.bytesPerSecond = Math.round(progress.totalBytes / Math.max(0.001, (progress.finishedMs - startedMs) / 1000));
}
