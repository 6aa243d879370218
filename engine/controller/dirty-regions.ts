import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decode, formatInputError, intRange } from '../../api/decode.ts';
import { RegionBitmap } from './region-bitmap.ts';

/**
 * Delta rebuild bookkeeping. While a replica is ERR, the engine records which regions were written
 * (so a returning replica gets only those), seeded with the regions written since the last flush
 * that completed before it left (its unflushed writes may be lost). Records live durably in the
 * healthy replicas' metadata (setExtra, keyed by the missing replica's id), so an engine restart
 * does not lose them: a region newly marked is persisted BEFORE the write that dirtied it is sent.
 */

/** Extra-record key prefix; the key is the prefix plus the missing replica's id. */
export const DIRTY_EXTRA_PREFIX = 'shorthorn.dirty.';

/** On-disk (extra record) form, JSON. */
const DirtyRecordJson = t.type({
  address: t.string,
  revisionMax: t.string,
  regionBytes: intRange(1 << 20, 2 ** 40),
  regions: t.string,
});

/** What the engine knows of a replica that is away. */
export interface DirtyRecord {
  readonly replicaId: string;
  readonly address: string;
  /** The highest revision it can have reached before it left: a higher one means someone else wrote to it. */
  readonly revisionMax: bigint;
  readonly regions: RegionBitmap;
}

/**
 * Longest region list kept as is. The replica caps all its extras at 2 MiB, so a record whose runs
 * would be longer (writes scattered over a huge volume) is stored as "every region": a superset,
 * so still safe, and the returning replica's delta rebuild becomes a full copy.
 */
export const MAX_REGIONS_TEXT = 256 * 1024;

/** The extra-record text of a record. */
export function encodeDirtyRecord(r: DirtyRecord): string {
  let regions = r.regions.encode();
  if (regions.length > MAX_REGIONS_TEXT) regions = `0-${r.regions.regions - 1}`;
  return JSON.stringify({ address: r.address, revisionMax: r.revisionMax.toString(), regionBytes: r.regions.regionBytes, regions });
}

/**
 * Decodes an extra record into this volume's geometry, or says what is wrong with it. A record
 * written before the volume grew has the smaller volume's region size (regionBytesFor): it is
 * read in its own and converted, each old region marking every new one it overlaps.
 */
export function decodeDirtyRecord(replicaId: string, text: string, sizeBytes: number, regionBytes: number): E.Either<string, DirtyRecord> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return E.left('not JSON');
  }
  const d = decode(DirtyRecordJson, json);
  if (E.isLeft(d)) return E.left(formatInputError(d.left));
  if (!/^\d+$/.test(d.right.revisionMax)) return E.left(`revisionMax: not a decimal count, got "${d.right.revisionMax}"`);
  const own = d.right.regionBytes;
  if (!Number.isInteger(Math.log2(own))) return E.left(`regionBytes ${own} is not a power of two`);
  const read = RegionBitmap.decode(d.right.regions, own, sizeBytes);
  if (typeof read === 'string') return E.left(read);
  const regions = own === regionBytes ? read : RegionBitmap.from(read, regionBytes, sizeBytes);
  return E.right({ replicaId, address: d.right.address, revisionMax: BigInt(d.right.revisionMax), regions });
}

/** Every dirty record in a replica's extras (bad ones are reported through `onBad`). */
export function dirtyRecordsIn(extras: Readonly<Record<string, string>>, sizeBytes: number, regionBytes: number, onBad: (key: string, why: string) => void): DirtyRecord[] {
  const out: DirtyRecord[] = [];
  for (const [key, value] of Object.entries(extras)) {
    if (!key.startsWith(DIRTY_EXTRA_PREFIX)) continue;
    const r = decodeDirtyRecord(key.slice(DIRTY_EXTRA_PREFIX.length), value, sizeBytes, regionBytes);
    if (E.isLeft(r)) onBad(key, r.left);
    else out.push(r.right);
  }
  return out;
}

/** Writes (value) or deletes (null) an extra record on every healthy replica; rejects when none took it. */
export type PersistExtra = (key: string, value: string | null) => Promise<void>;

/**
 * Tracks dirty regions for replicas that are away, and the regions written since the last flush.
 * Concurrency contract: persists are coalesced; a caller that marked a new region waits for a
 * persist round that started after its mark.
 */
export class DirtyTracker {
  readonly records = new Map<string, DirtyRecord>();
  private unflushed: RegionBitmap;
  private readonly flushing = new Set<RegionBitmap>();
  private readonly pendingKeys = new Set<string>();
  private scheduled: Promise<void> | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private size: number,
    private region: number,
    private readonly persist: PersistExtra,
  ) {
    this.unflushed = new RegionBitmap(region, size);
  }

  get sizeBytes(): number {
    return this.size;
  }

  get regionBytes(): number {
    return this.region;
  }

  /**
   * The volume grew: every bitmap from now on covers `sizeBytes` in regions of `regionBytes`. The
   * records are converted in memory; when the region size changed they are persisted again in it
   * (the old text still decodes, converted the same way, so nothing depends on that persist).
   * Bitmaps already handed to a flush keep their geometry; `begin` converts them when it adds them.
   */
  resize(sizeBytes: number, regionBytes: number): Promise<void> {
    const changed = regionBytes !== this.region;
    this.size = sizeBytes;
    this.region = regionBytes;
    this.unflushed = RegionBitmap.from(this.unflushed, regionBytes, sizeBytes);
    for (const [id, r] of this.records) {
      this.records.set(id, { ...r, regions: RegionBitmap.from(r.regions, regionBytes, sizeBytes) });
      if (changed) this.pendingKeys.add(id);
    }
    return this.pendingKeys.size > 0 ? this.requestPersist() : Promise.resolve();
  }

  /** Before a write or unmap is sent: marks it; returns a promise to await when a record grew. */
  noteIssue(offsetBytes: number, lengthBytes: number): Promise<void> | undefined {
    this.unflushed.markRange(offsetBytes, lengthBytes);
    if (this.records.size === 0) return undefined;
    for (const r of this.records.values()) if (r.regions.markRange(offsetBytes, lengthBytes)) this.pendingKeys.add(r.replicaId);
    return this.pendingKeys.size > 0 ? this.requestPersist() : undefined;
  }

  /** After a write completed: it is unflushed until a flush issued after now completes. */
  noteDone(offsetBytes: number, lengthBytes: number): void {
    this.unflushed.markRange(offsetBytes, lengthBytes);
  }

  /** A flush is being issued: returns the regions it will make durable. */
  flushStarted(): RegionBitmap {
    const snap = this.unflushed;
    this.unflushed = new RegionBitmap(this.regionBytes, this.sizeBytes);
    this.flushing.add(snap);
    return snap;
  }

  /** The flush of `snap` has completed (on the replicas that acked it). */
  flushEnded(snap: RegionBitmap): void {
    this.flushing.delete(snap);
  }

  /** Starts a record for a replica that just left; persisted in the background. */
  begin(replicaId: string, address: string, revisionMax: bigint): void {
    const regions = new RegionBitmap(this.regionBytes, this.sizeBytes);
    const old = this.records.get(replicaId);
    if (old !== undefined) regions.addAll(old.regions);
    regions.addAll(this.unflushed);
    for (const s of this.flushing) regions.addAll(s);
    const max = old !== undefined && old.revisionMax < revisionMax ? old.revisionMax : revisionMax;
    this.records.set(replicaId, { replicaId, address, revisionMax: old === undefined ? revisionMax : max, regions });
    this.pendingKeys.add(replicaId);
    this.requestPersist().catch(() => undefined);
  }

  /** Takes over a record found on the replicas at start. */
  adopt(r: DirtyRecord): void {
    const old = this.records.get(r.replicaId);
    if (old === undefined) {
      this.records.set(r.replicaId, r);
      return;
    }
    old.regions.addAll(r.regions);
    this.records.set(r.replicaId, { ...old, revisionMax: r.revisionMax > old.revisionMax ? r.revisionMax : old.revisionMax });
  }

  /** Forgets a record (the replica was rebuilt or removed), durably. */
  async drop(replicaId: string): Promise<void> {
    if (!this.records.delete(replicaId)) return;
    this.pendingKeys.delete(replicaId);
    await this.persist(DIRTY_EXTRA_PREFIX + replicaId, null);
  }

  /** Persists every pending record now (and waits). */
  sync(): Promise<void> {
    return this.pendingKeys.size > 0 ? this.requestPersist() : this.running;
  }

  private requestPersist(): Promise<void> {
    if (this.scheduled !== undefined) return this.scheduled;
    const round = this.running.catch(() => undefined).then(() => {
      this.scheduled = undefined;
      const keys = [...this.pendingKeys];
      this.pendingKeys.clear();
      const writes = keys.flatMap((id) => {
        const r = this.records.get(id);
        return r === undefined ? [] : [this.persist(DIRTY_EXTRA_PREFIX + id, encodeDirtyRecord(r))];
      });
      return Promise.all(writes).then(() => undefined);
    });
    this.scheduled = round;
    this.running = round;
    return round;
  }
}
