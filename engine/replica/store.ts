import { join } from 'node:path';
import type { Logger } from '../../api/log.ts';
import type { ByteRange, ReplicaInfo } from './connection.ts';
import type { ReplicaBackend } from './backend.ts';
import { AllocationMap } from './allocation-map.ts';
import { syncDir } from './fs-io.ts';
import { Layer } from './layer.ts';
import { writeMetadata, type ReplicaMetadata } from './metadata.ts';
import type { StateFile } from './state.ts';
import { ReplicaError } from '../wire/errors.ts';

/** Largest total of extras values, so that `info` always fits one reply. */
const MAX_EXTRAS_BYTES = 2 * 1024 * 1024;
/** Zeros written to head blocks that a snapshot below still holds (UNMAP over a snapshot). */
const ZEROS = Buffer.alloc(1024 * 1024);
/** Log records beyond which a flush considers compacting the head's log (default). */
export const COMPACT_MIN_RECORDS = 65536;

/**
 * A replica's on-disk store (see docs/replica-format.md): a chain of layers, the last one the live
 * head. Reads resolve each 4 KiB block to the newest layer holding it (zeros when none does); writes
 * go to the head. A block new to the head is written in full (the rest of the block copied from
 * below, or zeros) before the map says the head holds it, and its allocation record is logged only
 * at the next flush, after the data is fdatasync'ed: a crash before that flush leaves the block
 * wholly old.
 *
 * Concurrency contract: any calls may overlap. Writes that allocate take a per-block gate so two
 * partial writes to one new block never race their read-modify-write; flushes, revision and
 * metadata changes are serialised. `snapshot` needs I/O quiesced by the caller.
 */
export class ReplicaStore implements ReplicaBackend {
  readonly sectorBytes = 512;
  readonly blockBytes: number;
  private blockCount: number;
  private readonly allocating = new Map<number, Promise<void>>();
  private pendingAlloc: AllocationMap;
  private pendingFree: AllocationMap;
  private persistedRevision: number;
  private serial: Promise<unknown> = Promise.resolve();
  private compactCheckAt: number;
  private closed = false;
  /** Data operations running now; close() waits for them so no I/O hits a closed descriptor. */
  private active = 0;
  private onIdle: (() => void) | null = null;

  /** Use openStore (store-open.ts). */
  constructor(
    readonly location: string,
    private meta: ReplicaMetadata,
    private readonly layers: Layer[],
    private readonly state: StateFile,
    private revision: number,
    private dirty: boolean,
    private readonly log: Logger,
    /** Log records beyond which a flush considers compacting. */
    private readonly compactMinRecords = COMPACT_MIN_RECORDS,
  ) {
    this.compactCheckAt = compactMinRecords;
    this.blockBytes = meta.blockBytes;
    this.blockCount = Math.ceil(meta.sizeBytes / meta.blockBytes);
    this.pendingAlloc = new AllocationMap(this.blockCount);
    this.pendingFree = new AllocationMap(this.blockCount);
    this.persistedRevision = revision;
  }

  get sizeBytes(): number {
    return this.meta.sizeBytes;
  }

  private get head(): Layer {
    return this.layers[this.layers.length - 1] as Layer;
  }

  /** The index of the newest layer holding `block`, or -1. */
  private resolve(block: number, below = this.layers.length): number {
    for (let i = below - 1; i >= 0; i--) if ((this.layers[i] as Layer).map.has(block)) return i;
    return -1;
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    return this.track(this.readNow(offsetBytes, lengthBytes));
  }

  write(offsetBytes: number, data: Buffer): Promise<void> {
    return this.track(this.writeNow(offsetBytes, data));
  }

  unmap(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.track(this.unmapNow(offsetBytes, lengthBytes));
  }

  /** Counts an operation in `active` until it settles; refuses new ones once closing. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.active++;
    p.then(this.settled, this.settled);
    return p;
  }

  private readonly settled = (): void => {
    if (--this.active === 0 && this.onIdle !== null) this.onIdle();
  };

  /** Reads [offset, offset + out.length) into `out` (a caller's buffer, e.g. a pooled one). */
  readInto(offsetBytes: number, out: Buffer): Promise<void> {
    return this.track(this.readNow(offsetBytes, out.length, out).then(() => undefined));
  }

  private async readNow(offsetBytes: number, lengthBytes: number, into?: Buffer): Promise<Buffer> {
    if (this.closed) throw new ReplicaError('EIO', `replica ${this.location}: store is closed`);
    const out = into ?? Buffer.allocUnsafe(lengthBytes);
    const bs = this.blockBytes;
    const b0 = Math.floor(offsetBytes / bs);
    const n = Math.ceil((offsetBytes + lengthBytes) / bs) - b0;
    if (this.head.map.hasAll(b0, n)) {
      await this.head.pread(out, 0, lengthBytes, offsetBytes);
      return out;
    }
    await this.readLayers(out, offsetBytes, lengthBytes);
    return out;
  }

  /** Fills `out` with [offset, offset+length), one pread per run of blocks in the same layer. */
  private async readLayers(out: Buffer, offsetBytes: number, lengthBytes: number): Promise<void> {
    const bs = this.blockBytes;
    const end = offsetBytes + lengthBytes;
    const reads: Promise<void>[] = [];
    let pos = offsetBytes;
    while (pos < end) {
      const b = Math.floor(pos / bs);
      const li = this.resolve(b);
      let nb = b + 1;
      while (nb * bs < end && this.resolve(nb) === li) nb++;
      const segEnd = Math.min(end, nb * bs);
      if (li < 0) out.fill(0, pos - offsetBytes, segEnd - offsetBytes);
      else reads.push((this.layers[li] as Layer).pread(out, pos - offsetBytes, segEnd - pos, pos));
      pos = segEnd;
    }
    await Promise.all(reads);
  }

  private async writeNow(offsetBytes: number, data: Buffer): Promise<void> {
    if (this.closed) throw new ReplicaError('EIO', `replica ${this.location}: store is closed`);
    const bs = this.blockBytes;
    const b0 = Math.floor(offsetBytes / bs);
    const n = Math.ceil((offsetBytes + data.length) / bs) - b0;
    if (this.head.map.hasAll(b0, n)) {
      // Every block already in the head: one pwrite in place.
      await this.head.pwrite(data, offsetBytes);
      this.revision++;
      return;
    }
    await this.writeAllocating(offsetBytes, data, b0, b0 + n);
    this.revision++;
  }

  /** The gate of a block being allocated within [b0, b1), if any. */
  private gateWithin(b0: number, b1: number): Promise<void> | undefined {
    if (this.allocating.size === 0) return undefined;
    if (this.allocating.size < b1 - b0) {
      for (const [b, g] of this.allocating) if (b >= b0 && b < b1) return g;
      return undefined;
    }
    for (let b = b0; b < b1; b++) {
      const g = this.allocating.get(b);
      if (g !== undefined) return g;
    }
    return undefined;
  }

  private async writeAllocating(offsetBytes: number, data: Buffer, b0: number, b1: number): Promise<void> {
    for (let g = this.gateWithin(b0, b1); g !== undefined; g = this.gateWithin(b0, b1)) await g;
    // From here to the gates being set nothing awaits: the check and the claim are atomic.
    const head = this.head;
    const fresh: number[] = [];
    for (let b = b0; b < b1; b++) if (!head.map.has(b)) fresh.push(b);
    if (fresh.length === 0) return head.pwrite(data, offsetBytes);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    for (const b of fresh) this.allocating.set(b, gate);
    try {
      const bs = this.blockBytes;
      const end = offsetBytes + data.length;
      const io: Promise<void>[] = [];
      // A block new to the head is written whole: the part this write does not cover comes from below.
      if (offsetBytes % bs !== 0 && fresh[0] === b0) io.push(this.copyUp(b0 * bs, offsetBytes - b0 * bs));
      if (end % bs !== 0 && fresh[fresh.length - 1] === b1 - 1) io.push(this.copyUp(end, b1 * bs - end));
      io.push(head.pwrite(data, offsetBytes));
      await Promise.all(io);
      for (const b of fresh) {
        head.map.set(b);
        this.pendingAlloc.set(b);
        this.pendingFree.clear(b);
      }
    } finally {
      for (const b of fresh) this.allocating.delete(b);
      open();
    }
  }

  /** Copies [offset, offset+length) as the layers below the head resolve it into the head's file. */
  private async copyUp(offsetBytes: number, lengthBytes: number): Promise<void> {
    const buf = Buffer.allocUnsafe(lengthBytes);
    await this.readLayers(buf, offsetBytes, lengthBytes);
    await this.head.pwrite(buf, offsetBytes);
  }

  private async unmapNow(offsetBytes: number, lengthBytes: number): Promise<void> {
    if (this.closed) throw new ReplicaError('EIO', `replica ${this.location}: store is closed`);
    const bs = this.blockBytes;
    const end = offsetBytes + lengthBytes;
    const fb = Math.ceil(offsetBytes / bs);
    const lb = Math.floor(end / bs);
    const zeroWrites: Array<[number, number]> = [];
    // Partial blocks: zero the covered sectors where any layer holds data.
    if (fb > lb) {
      if (this.resolve(lb) >= 0) zeroWrites.push([offsetBytes, lengthBytes]);
    } else {
      if (offsetBytes % bs !== 0 && this.resolve(fb - 1) >= 0) zeroWrites.push([offsetBytes, fb * bs - offsetBytes]);
      if (end % bs !== 0 && this.resolve(lb) >= 0) zeroWrites.push([lb * bs, end - lb * bs]);
      for (let g = this.gateWithin(fb, lb); g !== undefined; g = this.gateWithin(fb, lb)) await g;
      // Whole blocks: drop them from the head; where a snapshot below holds one, write zeros over it instead.
      const head = this.head;
      for (const r of [...head.map.runs(fb, lb)]) {
        head.map.clearRun(r.start, r.count);
        this.pendingAlloc.clearRun(r.start, r.count);
        this.pendingFree.setRun(r.start, r.count);
      }
      for (let i = 0; i < this.layers.length - 1; i++) {
        for (const r of (this.layers[i] as Layer).map.runs(fb, lb)) zeroWrites.push([r.start * bs, r.count * bs]);
      }
    }
    for (const [off, len] of zeroWrites) {
      for (let at = 0; at < len; at += ZEROS.length) await this.writeNow(off + at, ZEROS.subarray(0, Math.min(ZEROS.length, len - at)));
    }
    this.revision++;
  }

  flush(): Promise<void> {
    return this.serialise(() => this.flushNow());
  }

  private serialise<T>(task: () => Promise<T>): Promise<T> {
    const p = this.serial.then(task);
    this.serial = p.catch(() => undefined);
    return p;
  }

  private async flushNow(): Promise<void> {
    const revision = this.revision;
    const allocs = this.pendingAlloc;
    const frees = this.pendingFree;
    this.pendingAlloc = new AllocationMap(this.blockCount);
    this.pendingFree = new AllocationMap(this.blockCount);
    const head = this.head;
    try {
      // Data first, then the records that point at it.
      await head.sync();
      await head.log?.append([
        ['free', frees.runs()],
        ['allocate', allocs.runs()],
      ]);
    } catch (e) {
      this.restorePending(allocs, frees);
      throw e;
    }
    if (revision !== this.persistedRevision || this.dirty) {
      await this.state.write({ revision, clean: false });
      this.persistedRevision = revision;
    }
    this.dirty = false;
    await this.maybeCompact();
  }

  /** After a failed flush: put its changes back under any made since. */
  private restorePending(allocs: AllocationMap, frees: AllocationMap): void {
    for (const r of allocs.runs()) for (let b = r.start; b < r.start + r.count; b++) if (!this.pendingFree.has(b)) this.pendingAlloc.set(b);
    for (const r of frees.runs()) for (let b = r.start; b < r.start + r.count; b++) if (!this.pendingAlloc.has(b)) this.pendingFree.set(b);
  }

  /** Rewrites the head's log when it holds far more records than the map has runs. */
  private async maybeCompact(): Promise<void> {
    const log = this.head.log;
    if (log === null || log.records < this.compactCheckAt) return;
    // What is on disk now: the map minus changes made since this flush took its snapshot.
    const persisted = this.head.map.clone();
    for (const r of this.pendingAlloc.runs()) persisted.clearRun(r.start, r.count);
    for (const r of this.pendingFree.runs()) persisted.setRun(r.start, r.count);
    let runs = 0;
    for (const _ of persisted.runs()) runs++;
    if (log.records > 2 * runs) {
      await log.compact(persisted);
      this.log.info('compacted allocation log', { layer: this.head.name, records: log.records });
    }
    this.compactCheckAt = Math.max(this.compactMinRecords, 2 * log.records);
  }

  info(): ReplicaInfo {
    const m = this.meta;
    return { replicaId: m.replicaId, sizeBytes: m.sizeBytes, sectorBytes: m.sectorBytes, revision: String(this.revision), chain: [...m.chain], dirty: this.dirty, rebuilding: m.rebuilding, extras: { ...m.extras } };
  }

  allocatedRanges(offsetBytes: number, lengthBytes: number, maxRanges: number): ByteRange[] {
    const bs = this.blockBytes;
    const end = offsetBytes + lengthBytes;
    const bEnd = Math.ceil(end / bs);
    const out: ByteRange[] = [];
    let b = Math.floor(offsetBytes / bs);
    while (out.length < maxRanges) {
      let start = -1;
      for (const l of this.layers) {
        const s = l.map.nextSet(b, bEnd);
        if (s !== -1 && (start === -1 || s < start)) start = s;
      }
      if (start === -1) break;
      let stop = start;
      for (let moved = true; moved; ) {
        moved = false;
        for (const l of this.layers) {
          if (stop < bEnd && l.map.has(stop)) {
            stop = l.map.nextClear(stop, bEnd);
            moved = true;
          }
        }
      }
      const o = Math.max(offsetBytes, start * bs);
      out.push({ offsetBytes: o, lengthBytes: Math.min(end, stop * bs) - o });
      b = stop;
    }
    return out;
  }

  setRebuilding(rebuilding: boolean): Promise<void> {
    return this.serialise(() => this.updateMeta({ ...this.meta, rebuilding }));
  }

  setRevision(revision: string): Promise<void> {
    return this.serialise(async () => {
      const r = Number(revision);
      await this.state.write({ revision: r, clean: false });
      this.revision = r;
      this.persistedRevision = r;
    });
  }

  setExtra(key: string, value: string | null): Promise<void> {
    return this.serialise(async () => {
      const extras = { ...this.meta.extras };
      if (value === null) delete extras[key];
      else extras[key] = value;
      let total = 0;
      for (const [k, v] of Object.entries(extras)) total += Buffer.byteLength(k) + Buffer.byteLength(v);
      if (total > MAX_EXTRAS_BYTES) throw new ReplicaError('EINVAL', `replica ${this.location}: extras would exceed ${MAX_EXTRAS_BYTES} bytes`);
      await this.updateMeta({ ...this.meta, extras });
    });
  }

  /**
   * Grows the volume to `sizeBytes` (a validated size, a multiple of 512): a no-op at the current
   * size, refused below it. Every layer gets the segment files the new size needs (empty, synced),
   * then volume.json records the size. A crash before that leaves the old size and some empty
   * files; after it, the new size. The new blocks are held by no layer and read as zeros. Only
   * then do requests past the old end pass the server's range check, so no I/O races the growth.
   */
  expand(sizeBytes: number): Promise<void> {
    return this.serialise(async () => {
      if (this.closed) throw new ReplicaError('EIO', `replica ${this.location}: store is closed`);
      const from = this.meta.sizeBytes;
      if (sizeBytes < from) throw new ReplicaError('EINVAL', `replica ${this.location}: cannot shrink from ${from} to ${sizeBytes} bytes`);
      if (sizeBytes === from) return;
      for (const l of this.layers) await l.grow(this.location, sizeBytes, this.blockBytes);
      await syncDir(this.location);
      await this.updateMeta({ ...this.meta, sizeBytes });
      this.blockCount = Math.ceil(sizeBytes / this.blockBytes);
      this.pendingAlloc.grow(this.blockCount);
      this.pendingFree.grow(this.blockCount);
      this.log.info('replica store expanded', { fromBytes: from, sizeBytes });
    });
  }

  private async updateMeta(next: ReplicaMetadata): Promise<void> {
    await writeMetadata(this.location, next);
    this.meta = next;
  }

  /**
   * Freezes the head as a read-only snapshot and starts a new empty head; returns the frozen layer's
   * name. The caller quiesces I/O first (the engine pauses its frontend around a snapshot).
   */
  snapshot(): Promise<string> {
    return this.serialise(async () => {
      await this.flushNow();
      const frozen = this.head.name;
      const name = `layer-${String(Number(frozen.slice(6)) + 1).padStart(6, '0')}`;
      await Layer.create(this.location, name, this.blockBytes, this.meta.sizeBytes);
      await syncDir(this.location);
      await this.updateMeta({ ...this.meta, chain: [...this.meta.chain, name] });
      const head = await Layer.open(this.location, name, this.blockBytes, this.meta.sizeBytes, true);
      if ('_tag' in head) throw new Error(`new layer ${join(this.location, name)}: ${head.detail}`);
      await this.head.freeze();
      this.layers.push(head);
      return frozen;
    });
  }

  /** Flushes, marks the store cleanly closed, and closes its files. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.serialise(async () => {
      if (this.active > 0) await new Promise<void>((r) => (this.onIdle = r));
      await this.flushNow();
      await this.state.write({ revision: this.revision, clean: true });
      for (const l of this.layers) await l.close();
      await this.state.close();
    });
  }
}
