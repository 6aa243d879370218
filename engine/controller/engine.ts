import { EventEmitter } from 'node:events';
import type { Logger } from '../../api/log.ts';
import { BlockIoError, type BlockDevice } from '../block-device.ts';
import { checkVolumeSize } from '../replica/metadata.ts';
import type { ByteRange, ReplicaConnection } from '../replica/connection.ts';
import { DirtyTracker } from './dirty-regions.ts';
import { fanOut } from './fanout.ts';
import { withTimeout } from './errors.ts';
import { EngineMetrics } from './metrics.ts';
import { applyWriteOutcome, isWritable, type ReplicaMode, type WriteOutcome } from './modes.ts';
import { RangeLock } from './range-lock.ts';
import { regionBytesFor } from './region-bitmap.ts';
import { ReplicaHandle } from './replica-handle.ts';
import type { WriteMask } from './write-mask.ts';

/**
 * The engine: a BlockDevice over a set of replicas. Writes, unmaps and flushes fan out to every RW
 * and WO replica and complete when all have answered; reads go to the RW replica with the fewest
 * calls outstanding. A replica that fails, times out or disconnects goes ERR and leaves the set; the
 * volume serves while one RW replica is left.
 *
 * Concurrency contract: any number of I/Os may be in flight. Overlapping mutations are ordered by a
 * range lock so every replica applies them in the same order; everything else runs in parallel.
 */

/** Engine settings (defaults in `resolveEngineOptions`). */
export interface EngineOptions {
  readonly volume: string;
  readonly sizeBytes: number;
  /** Opens a connection to a replica by address (HOST:PORT, or any name in tests). */
  readonly connect: (address: string) => Promise<ReplicaConnection>;
  readonly log: Logger;
  /** Per-I/O timeout: a call slower than this turns its replica ERR (default 8 s). */
  readonly timeoutMs?: number;
  /** Liveness ping interval (default 2 s). */
  readonly pingMs?: number;
  /** Largest request sent to one replica; larger I/O is split (default 1 MiB). */
  readonly maxIoBytes?: number;
  /** Rebuild copy chunk (default 1 MiB) and chunks copied at once (default 4). */
  readonly rebuildChunkBytes?: number;
  readonly rebuildParallel?: number;
}

/** EngineOptions with every default filled in. */
export type ResolvedEngineOptions = Required<EngineOptions>;

/** Fills the defaults. */
export function resolveEngineOptions(o: EngineOptions): ResolvedEngineOptions {
  return { timeoutMs: 8000, pingMs: 2000, maxIoBytes: 1 << 20, rebuildChunkBytes: 1 << 20, rebuildParallel: 4, ...o };
}

const SECTOR = 512;
const SWEEP_MS = 200;

/** The replicating block device. Build it with `openEngine` (start.ts). */
/** Reads of one burst sent to the same replica before the next is picked (see pickReader). */
const READ_BURST = 16;

export class Engine implements BlockDevice {
  readonly blockSizeBytes = SECTOR;
  private size: number;
  readonly replicas: ReplicaHandle[] = [];
  readonly lock = new RangeLock();
  /** Write masks of running rebuilds: every mutation marks them. */
  readonly masks = new Set<WriteMask>();
  readonly dirty: DirtyTracker;
  readonly metrics: EngineMetrics;
  /** 'mode' (handle) when a replica changes mode; 'rebuild' (handle, error?) when a rebuild ends. */
  readonly events = new EventEmitter();
  readonly log: Logger;
  /** Addresses being connected by add-replica right now (a second add of the same one is refused). */
  readonly joining = new Set<string>();
  private rr = 0;
  /** The replica this burst of reads goes to (pickReader). */
  private burstReader: ReplicaHandle | undefined;
  private burstReads = 0;
  private burstArmed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;
  private readonly resizeListeners = new Set<(sizeBytes: number) => void>();
  /** The expansion running now, if any: expansions run one at a time. */
  private expansion: Promise<void> = Promise.resolve();

  constructor(readonly opts: ResolvedEngineOptions) {
    this.size = opts.sizeBytes;
    this.log = opts.log;
    this.metrics = new EngineMetrics(opts.volume);
    this.dirty = new DirtyTracker(opts.sizeBytes, regionBytesFor(opts.sizeBytes), (k, v) => this.persistExtra(k, v));
    this.timers.push(setInterval(() => this.sweep(), SWEEP_MS));
    this.timers.push(setInterval(() => this.pingAll(), opts.pingMs));
  }

  get sizeBytes(): number {
    return this.size;
  }

  onResize(listener: (sizeBytes: number) => void): () => void {
    this.resizeListeners.add(listener);
    return () => this.resizeListeners.delete(listener);
  }

  /**
   * Grows the volume to `sizeBytes` online (a no-op at the current size; shrinking is refused).
   * Under the barrier — no I/O in flight, no replica joining or turning RW — every RW and WO
   * replica grows (durably, each on its own disk), then the engine's size changes and resize
   * listeners hear of it (the iSCSI target raises CAPACITY DATA HAS CHANGED). A replica that fails
   * to grow goes ERR like one that fails a write; with no RW replica grown, the volume keeps its
   * size and the call rejects. A replica that was away grows when it comes back (connectHandle).
   */
  expand(sizeBytes: number): Promise<void> {
    const run = this.expansion.catch(() => undefined).then(() => this.expandNow(sizeBytes));
    this.expansion = run;
    return run;
  }

  private async expandNow(sizeBytes: number): Promise<void> {
    const rule = checkVolumeSize(sizeBytes);
    if (rule !== null) throw new BlockIoError('EINVAL', `volume ${this.opts.volume}: cannot expand to ${sizeBytes} bytes: the size ${rule}`);
    if (sizeBytes < this.size) throw new BlockIoError('EINVAL', `volume ${this.opts.volume}: cannot shrink from ${this.size} to ${sizeBytes} bytes`);
    if (sizeBytes === this.size) return;
    const from = this.size;
    const barrier = await this.lock.exclusive();
    try {
      const targets = this.writable();
      const modes = new Map<ReplicaHandle, ReplicaMode>(targets.map((h) => [h, h.mode]));
      const outcome = await fanOut(targets, (h) => h.call('meta', 0, (c) => c.expand(sizeBytes)));
      try {
        this.decide(modes, outcome);
      } catch (e) {
        const err = e as Error & { code?: string };
        throw new BlockIoError(err.code === 'ENOSPC' ? 'ENOSPC' : 'EIO', `volume ${this.opts.volume}: cannot expand to ${sizeBytes} bytes: ${err.message}`, { cause: err });
      }
      for (const h of targets) if (h.mode !== 'ERR' && h.info !== undefined) h.info = { ...h.info, sizeBytes };
      this.size = sizeBytes;
      // In memory at once (writes past the old end may follow as soon as the barrier lifts).
      const persisted = this.dirty.resize(sizeBytes, regionBytesFor(sizeBytes));
      persisted.catch((e: unknown) => this.log.warn(`persisting dirty records after the expansion failed: ${(e as Error).message}`));
    } finally {
      barrier.release();
    }
    this.log.info(`volume ${this.opts.volume} expanded from ${from} to ${sizeBytes} bytes`, { fromBytes: from, sizeBytes, replicas: this.replicas.map((h) => `${h.address}=${h.mode}`) });
    for (const l of this.resizeListeners) l(sizeBytes);
  }

  /** A new handle reporting to this engine's metrics (not yet in the set). */
  newHandle(address: string): ReplicaHandle {
    return new ReplicaHandle(address, this.metrics.replicaIo(address));
  }

  /** Puts a connected handle into the set in `mode` and watches its connection. */
  place(h: ReplicaHandle, mode: 'RW' | 'WO'): void {
    if (!this.replicas.includes(h)) this.replicas.push(h);
    h.mode = mode;
    h.cause = undefined;
    const conn = h.conn;
    conn?.closed.then((e) => {
      if (h.conn === conn) this.setErr(h, new Error(`connection lost: ${e.message}`, { cause: e }));
    });
    this.modeChanged(h);
  }

  /** Turns a WO replica RW (end of its rebuild). */
  promote(h: ReplicaHandle): void {
    h.mode = 'RW';
    this.modeChanged(h);
  }

  /** Takes a replica out of the set (ERR) with a cause; starts recording what it misses. */
  setErr(h: ReplicaHandle, cause: Error): void {
    if (h.mode === 'ERR') return;
    h.mode = 'ERR';
    h.cause = cause;
    h.fail(cause);
    if (!this.closing) {
      this.log.warn(`replica ${h.address} set to ERR: ${cause.message}`, { replica: h.address, cause: cause.message, code: (cause as { code?: unknown }).code });
      if (h.info !== undefined) this.dirty.begin(h.info.replicaId, h.address, BigInt(h.info.revision) + BigInt(h.mutationsSent));
    }
    this.modeChanged(h);
  }

  /** Removes a replica from the list entirely. */
  forget(h: ReplicaHandle): void {
    if (h.mode !== 'ERR') {
      h.mode = 'ERR';
      h.cause = new Error('removed');
      h.fail(h.cause);
    }
    const i = this.replicas.indexOf(h);
    if (i >= 0) this.replicas.splice(i, 1);
    this.events.emit('mode', h);
  }

  private modeChanged(h: ReplicaHandle): void {
    this.metrics.setMode(h.address, h.mode);
    this.events.emit('mode', h);
  }

  /** Replicas that receive writes now. */
  writable(): ReplicaHandle[] {
    return this.replicas.filter((h) => isWritable(h.mode));
  }

  /** Finds a replica by address. */
  find(address: string): ReplicaHandle | undefined {
    return this.replicas.find((h) => h.address === address);
  }

  async readAt(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    this.check(offsetBytes, lengthBytes);
    if (lengthBytes === 0) return Buffer.alloc(0);
    if (lengthBytes <= this.opts.maxIoBytes) return this.readOnce(offsetBytes, lengthBytes);
    const parts: Promise<Buffer>[] = [];
    for (let o = 0; o < lengthBytes; o += this.opts.maxIoBytes) parts.push(this.readOnce(offsetBytes + o, Math.min(this.opts.maxIoBytes, lengthBytes - o)));
    return Buffer.concat(await Promise.all(parts));
  }

  /**
   * Reads into the caller's `dst` (the iSCSI target's pooled read buffers): the reply goes straight
   * into it over the wire. A replica that fails is set ERR, which closes its connection, so a late
   * reply can never land in `dst` after another replica has filled it and the caller reused it.
   */
  async readInto(offsetBytes: number, dst: Buffer): Promise<void> {
    const lengthBytes = dst.length;
    this.check(offsetBytes, lengthBytes);
    if (lengthBytes === 0) return;
    const max = this.opts.maxIoBytes;
    if (lengthBytes <= max) return this.readOnceInto(offsetBytes, dst);
    const parts: Promise<void>[] = [];
    for (let o = 0; o < lengthBytes; o += max) parts.push(this.readOnceInto(offsetBytes + o, dst.subarray(o, Math.min(o + max, lengthBytes))));
    await Promise.all(parts);
  }

  private async readOnceInto(offsetBytes: number, dst: Buffer): Promise<void> {
    for (;;) {
      const h = this.pickReader();
      if (h === undefined) throw new BlockIoError('EIO', `volume ${this.opts.volume}: no healthy replica to read from`);
      try {
        if (h.conn?.readInto !== undefined) await h.call('read', dst.length, (c) => (c.readInto as (o: number, d: Buffer) => Promise<void>).call(c, offsetBytes, dst));
        else {
          // A connection without readInto: copy only what the call returned, once it has settled.
          const data = await h.call('read', dst.length, (c) => c.readAt(offsetBytes, dst.length));
          if (data.length !== dst.length) throw new Error(`read returned ${data.length} bytes, asked ${dst.length}`);
          data.copy(dst);
        }
        return;
      } catch (e) {
        this.setErr(h, e as Error);
      }
    }
  }

  /** Reads from one RW replica; a failure sets it ERR and retries on another. */
  private async readOnce(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    for (;;) {
      const h = this.pickReader();
      if (h === undefined) throw new BlockIoError('EIO', `volume ${this.opts.volume}: no healthy replica to read from`);
      try {
        const data = await h.call('read', lengthBytes, (c) => c.readAt(offsetBytes, lengthBytes));
        if (data.length !== lengthBytes) throw new Error(`read returned ${data.length} bytes, asked ${lengthBytes}`);
        return data;
      } catch (e) {
        this.setErr(h, e as Error);
      }
    }
  }

  /**
   * The RW replica with the fewest calls outstanding. Ties stay with the replica used last, so a
   * QD1 stream keeps one replica (and its cache) warm, while deeper queues spread over all of them.
   * Reads issued in one burst (one turn of the event loop) stay on the replica picked first, up to
   * READ_BURST of them: they leave in one write and come back in one, where spreading every read
   * would cut each replica's batches into pieces and pay a send and a receive for each piece.
   */
  private pickReader(): ReplicaHandle | undefined {
    const t = this.burstReader;
    if (t !== undefined && t.mode === 'RW' && this.burstReads < READ_BURST) {
      this.burstReads++;
      return t;
    }
    const n = this.replicas.length;
    let best: ReplicaHandle | undefined;
    let bestAt = 0;
    for (let i = 0; i < n; i++) {
      const at = (this.rr + i) % n;
      const h = this.replicas[at] as ReplicaHandle;
      if (h.mode === 'RW' && (best === undefined || h.outstanding < best.outstanding)) {
        best = h;
        bestAt = at;
      }
    }
    this.rr = bestAt;
    if (!this.burstArmed) {
      this.burstArmed = true;
      process.nextTick(this.endBurst);
    }
    this.burstReader = best;
    this.burstReads = 1;
    return best;
  }

  private readonly endBurst = (): void => {
    this.burstArmed = false;
    this.burstReader = undefined;
  };

  async writeAt(offsetBytes: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    this.check(offsetBytes, data.length);
    const max = this.opts.maxIoBytes;
    if (data.length === 0) {
      if (opts?.fua === true) await this.flush();
      return;
    }
    if (data.length <= max) await this.mutate(offsetBytes, data.length, 'write', (c) => c.writeAt(offsetBytes, data));
    else {
      const parts: Promise<void>[] = [];
      for (let o = 0; o < data.length; o += max) {
        const piece = data.subarray(o, Math.min(o + max, data.length));
        parts.push(this.mutate(offsetBytes + o, piece.length, 'write', (c) => c.writeAt(offsetBytes + o, piece)));
      }
      await Promise.all(parts);
    }
    if (opts?.fua === true) await this.flush();
  }

  async unmapAt(offsetBytes: number, lengthBytes: number): Promise<void> {
    this.check(offsetBytes, lengthBytes);
    if (lengthBytes === 0) return;
    await this.mutate(offsetBytes, lengthBytes, 'unmap', (c) => c.unmapAt(offsetBytes, lengthBytes));
  }

  /** A write or unmap: ordered against overlapping ones, recorded for rebuilds and absent replicas, fanned out. */
  private async mutate(offsetBytes: number, lengthBytes: number, op: 'write' | 'unmap', send: (c: ReplicaConnection) => Promise<void>): Promise<void> {
    const { hold, ready } = this.lock.acquire(offsetBytes, lengthBytes);
    try {
      if (ready !== undefined) await ready;
      const persisted = this.dirty.noteIssue(offsetBytes, lengthBytes);
      if (persisted !== undefined) await persisted;
      for (const m of this.masks) m.mark(offsetBytes, lengthBytes);
      const targets = this.writable();
      const modes = new Map<ReplicaHandle, ReplicaMode>();
      for (const h of targets) {
        modes.set(h, h.mode);
        h.mutationsSent++;
      }
      const bytes = op === 'write' ? lengthBytes : 0;
      const outcome = await fanOut(targets, (h) => h.call(op, bytes, send));
      this.dirty.noteDone(offsetBytes, lengthBytes);
      this.decide(modes, outcome);
    } finally {
      hold.release();
    }
  }

  async flush(): Promise<void> {
    const snap = this.dirty.flushStarted();
    try {
      const targets = this.writable();
      const modes = new Map<ReplicaHandle, ReplicaMode>(targets.map((h) => [h, h.mode]));
      const outcome = await fanOut(targets, (h) => h.call('flush', 0, (c) => c.flush()));
      this.decide(modes, outcome);
    } finally {
      this.dirty.flushEnded(snap);
    }
  }

  /** Applies the write policy: ERR for failed replicas, and the I/O's own error if any. */
  private decide(modes: ReadonlyMap<ReplicaHandle, ReplicaMode>, outcome: WriteOutcome<ReplicaHandle>): void {
    const d = applyWriteOutcome(modes, outcome, (h) => `replica ${h.address}`);
    for (const [h, e] of d.setErr) this.setErr(h, e);
    if (d.error !== undefined) throw d.error;
  }

  /** Writes (or deletes) an extra record on every writable replica; fails only when no RW replica took it. */
  private async persistExtra(key: string, value: string | null): Promise<void> {
    const targets = this.writable();
    const modes = new Map<ReplicaHandle, ReplicaMode>(targets.map((h) => [h, h.mode]));
    const outcome = await fanOut(targets, (h) => h.call('meta', 0, (c) => c.setExtra(key, value)));
    this.decide(modes, outcome);
  }

  async mappedRanges(offsetBytes: number, lengthBytes: number): Promise<ByteRange[]> {
    this.check(offsetBytes, lengthBytes);
    for (;;) {
      const h = this.pickReader();
      if (h === undefined) throw new BlockIoError('EIO', `volume ${this.opts.volume}: no healthy replica`);
      try {
        return await h.call('allocated', 0, (c) => c.allocatedRanges(offsetBytes, lengthBytes));
      } catch (e) {
        this.setErr(h, e as Error);
      }
    }
  }

  private check(offsetBytes: number, lengthBytes: number): void {
    if (!Number.isSafeInteger(offsetBytes) || !Number.isSafeInteger(lengthBytes) || offsetBytes < 0 || lengthBytes < 0 || offsetBytes % SECTOR !== 0 || lengthBytes % SECTOR !== 0) {
      throw new BlockIoError('EINVAL', `I/O at ${offsetBytes}+${lengthBytes} is not aligned to ${SECTOR}-byte sectors`);
    }
    if (offsetBytes + lengthBytes > this.sizeBytes) throw new BlockIoError('ERANGE', `I/O at ${offsetBytes}+${lengthBytes} is past the end (${this.sizeBytes} bytes)`);
  }

  /** Times out calls that hang: their replica goes ERR (within SWEEP_MS of the timeout). */
  private sweep(): void {
    const now = performance.now();
    for (const h of this.replicas) {
      if (h.mode === 'ERR') continue;
      const late = h.overdue(now, this.opts.timeoutMs);
      if (late !== undefined) this.setErr(h, late);
    }
  }

  /** Pings every replica in the set, so a dead idle one is found. */
  private pingAll(): void {
    for (const h of this.replicas) {
      if (h.mode === 'ERR') continue;
      h.call('ping', 0, (c) => c.ping()).catch((e: unknown) => this.setErr(h, e as Error));
    }
  }

  /** Stops timers and closes every connection (rebuilds in progress stop). */
  async close(): Promise<void> {
    this.closing = true;
    // Timers still run here, so a replica that hangs on the last persist times out.
    await withTimeout(this.dirty.sync(), this.opts.timeoutMs + SWEEP_MS, 'persisting dirty records').catch(() => undefined);
    for (const t of this.timers) clearInterval(t);
    for (const h of this.replicas) {
      if (h.mode !== 'ERR') this.setErr(h, new Error('engine closed'));
    }
  }

  /** Whether close() was called. */
  get isClosing(): boolean {
    return this.closing;
  }
}
