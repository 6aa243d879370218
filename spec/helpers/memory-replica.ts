import { randomUUID } from 'node:crypto';
import type { ByteRange, ReplicaConnection, ReplicaInfo } from '../../engine/replica/connection.ts';

/**
 * An in-memory replica for engine tests: a sparse store (the "disk", which outlives connections)
 * and connections to it that are pipelined like the real wire (each call completes on its own
 * timer, so completions can come back out of order) and can be made to fail, hang, run out of
 * space, or disconnect.
 */

const SECTOR = 512;
const CHUNK = 64 * 1024;
const CHUNK_SECTORS = CHUNK / SECTOR;

/** The durable part of a memory replica. */
export class MemoryStore {
  replicaId: string = randomUUID();
  revision = 0n;
  rebuilding = false;
  /** Reported as info.dirty (stopped uncleanly, not flushed since); a flush clears it. */
  dirty = false;
  extras: Record<string, string> = {};
  private readonly data = new Map<number, Buffer>();
  private readonly alloc = new Map<number, Uint8Array>();

  constructor(public sizeBytes: number) {}

  info(): ReplicaInfo {
    return { replicaId: this.replicaId, sizeBytes: this.sizeBytes, sectorBytes: SECTOR, revision: this.revision.toString(), chain: ['head'], dirty: this.dirty, rebuilding: this.rebuilding, extras: { ...this.extras } };
  }

  read(offsetBytes: number, lengthBytes: number): Buffer {
    const out = Buffer.alloc(lengthBytes);
    for (let o = 0; o < lengthBytes; ) {
      const abs = offsetBytes + o;
      const c = Math.floor(abs / CHUNK);
      const within = abs - c * CHUNK;
      const n = Math.min(CHUNK - within, lengthBytes - o);
      this.data.get(c)?.copy(out, o, within, within + n);
      o += n;
    }
    return out;
  }

  write(offsetBytes: number, src: Buffer): void {
    for (let o = 0; o < src.length; ) {
      const abs = offsetBytes + o;
      const c = Math.floor(abs / CHUNK);
      const within = abs - c * CHUNK;
      const n = Math.min(CHUNK - within, src.length - o);
      let buf = this.data.get(c);
      if (buf === undefined) {
        buf = Buffer.alloc(CHUNK);
        this.data.set(c, buf);
      }
      src.copy(buf, within, o, o + n);
      this.setAlloc(abs, n, true);
      o += n;
    }
    this.revision++;
  }

  unmap(offsetBytes: number, lengthBytes: number): void {
    for (let o = 0; o < lengthBytes; ) {
      const abs = offsetBytes + o;
      const c = Math.floor(abs / CHUNK);
      const within = abs - c * CHUNK;
      const n = Math.min(CHUNK - within, lengthBytes - o);
      this.data.get(c)?.fill(0, within, within + n);
      this.setAlloc(abs, n, false);
      o += n;
    }
    this.revision++;
  }

  private setAlloc(offsetBytes: number, lengthBytes: number, on: boolean): void {
    for (let s = offsetBytes / SECTOR; s < (offsetBytes + lengthBytes) / SECTOR; s++) {
      const c = Math.floor(s / CHUNK_SECTORS);
      let bits = this.alloc.get(c);
      if (bits === undefined) {
        if (!on) continue;
        bits = new Uint8Array(CHUNK_SECTORS / 8);
        this.alloc.set(c, bits);
      }
      const i = s - c * CHUNK_SECTORS;
      bits[i >> 3] = on ? (bits[i >> 3] as number) | (1 << (i & 7)) : (bits[i >> 3] as number) & ~(1 << (i & 7));
    }
  }

  isAllocated(offsetBytes: number): boolean {
    const s = offsetBytes / SECTOR;
    const bits = this.alloc.get(Math.floor(s / CHUNK_SECTORS));
    const i = s % CHUNK_SECTORS;
    return bits !== undefined && (((bits[i >> 3] as number) >> (i & 7)) & 1) === 1;
  }

  allocated(offsetBytes: number, lengthBytes: number): ByteRange[] {
    const out: ByteRange[] = [];
    const end = offsetBytes + lengthBytes;
    let start = -1;
    let prevEnd = -1;
    const chunks = [...this.alloc.keys()].filter((c) => (c + 1) * CHUNK > offsetBytes && c * CHUNK < end).sort((x, y) => x - y);
    for (const c of chunks) {
      const a = Math.max(offsetBytes, c * CHUNK);
      const b = Math.min(end, (c + 1) * CHUNK);
      if (start >= 0 && a !== prevEnd) {
        out.push({ offsetBytes: start, lengthBytes: prevEnd - start });
        start = -1;
      }
      for (let o = a; o < b; o += SECTOR) {
        const on = this.isAllocated(o);
        if (on && start < 0) start = o;
        if (!on && start >= 0) {
          out.push({ offsetBytes: start, lengthBytes: o - start });
          start = -1;
        }
      }
      prevEnd = b;
    }
    if (start >= 0) out.push({ offsetBytes: start, lengthBytes: prevEnd - start });
    return out;
  }
}

/** What a connection should do wrong. */
export interface Faults {
  /** Every call of these ops rejects with this error. */
  fail?: { readonly ops: readonly string[]; readonly error: Error };
  /** Calls never complete (until disconnect). */
  hang?: boolean;
  /** Writes reject with ENOSPC. */
  noSpace?: boolean;
}

/** An error like the wire client's when the socket dies. */
export class MemoryTransportError extends Error {
  override readonly name = 'TransportError';
  readonly code = 'ECONNRESET';
}

/** A pipelined connection to a MemoryStore. */
export class MemoryReplica implements ReplicaConnection {
  faults: Faults = {};
  readonly calls = new Map<string, number>();
  readonly closed: Promise<Error>;
  private resolveClosed!: (e: Error) => void;
  private readonly pending = new Set<(e: Error) => void>();
  private dead: Error | undefined;

  /** `latencyMs` picks each call's completion delay (random delays reorder completions). */
  constructor(
    readonly store: MemoryStore,
    private readonly latencyMs: () => number = () => 0,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  private op<T>(name: string, apply: () => T): Promise<T> {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    if (this.dead !== undefined) return Promise.reject(this.dead);
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      if (this.faults.hang === true) return;
      const finish = () => {
        if (!this.pending.delete(reject)) return;
        const f = this.faults;
        if (f.fail !== undefined && f.fail.ops.includes(name)) return reject(f.fail.error);
        if (f.noSpace === true && name === 'write') return reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
        try {
          resolve(apply());
        } catch (e) {
          reject(e as Error);
        }
      };
      const d = this.latencyMs();
      if (d <= 0) setImmediate(finish);
      else setTimeout(finish, d);
    });
  }

  /** As the real replica does: a range past the store's end is answered ERANGE. */
  private inRange(offsetBytes: number, lengthBytes: number): void {
    if (offsetBytes + lengthBytes > this.store.sizeBytes) throw Object.assign(new Error(`ERANGE: range ${offsetBytes}+${lengthBytes} is past the end of the volume (${this.store.sizeBytes} bytes)`), { code: 'ERANGE' });
  }
  readAt(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    return this.op('read', () => (this.inRange(offsetBytes, lengthBytes), this.store.read(offsetBytes, lengthBytes)));
  }
  writeAt(offsetBytes: number, data: Buffer): Promise<void> {
    const copy = Buffer.from(data);
    return this.op('write', () => (this.inRange(offsetBytes, copy.length), this.store.write(offsetBytes, copy)));
  }
  unmapAt(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.op('unmap', () => (this.inRange(offsetBytes, lengthBytes), this.store.unmap(offsetBytes, lengthBytes)));
  }
  flush(): Promise<void> {
    return this.op('flush', () => void (this.store.dirty = false));
  }
  ping(): Promise<void> {
    return this.op('ping', () => undefined);
  }
  info(): Promise<ReplicaInfo> {
    return this.op('info', () => this.store.info());
  }
  allocatedRanges(offsetBytes: number, lengthBytes: number): Promise<ByteRange[]> {
    return this.op('allocated', () => this.store.allocated(offsetBytes, lengthBytes));
  }
  setRebuilding(rebuilding: boolean): Promise<void> {
    return this.op('setRebuilding', () => void (this.store.rebuilding = rebuilding));
  }
  setRevision(revision: string): Promise<void> {
    return this.op('setRevision', () => void (this.store.revision = BigInt(revision)));
  }
  expand(sizeBytes: number): Promise<void> {
    return this.op('expand', () => {
      if (sizeBytes < this.store.sizeBytes) throw new Error(`cannot shrink from ${this.store.sizeBytes} to ${sizeBytes} bytes`);
      this.store.sizeBytes = sizeBytes;
    });
  }
  setExtra(key: string, value: string | null): Promise<void> {
    return this.op('setExtra', () => {
      if (value === null) delete this.store.extras[key];
      else this.store.extras[key] = value;
    });
  }

  /** Kills the connection: every pending call rejects, `closed` resolves. */
  disconnect(reason = 'connection reset'): void {
    if (this.dead !== undefined) return;
    this.dead = new MemoryTransportError(reason);
    for (const r of this.pending) r(this.dead);
    this.pending.clear();
    this.resolveClosed(this.dead);
  }

  close(): void {
    this.disconnect('closed by client');
  }
}

/** A set of memory replicas reachable by address, as the engine's `connect` option wants. */
export class MemoryCluster {
  readonly stores = new Map<string, MemoryStore>();
  /** The latest connection to each address. */
  readonly conns = new Map<string, MemoryReplica>();
  /** Addresses that refuse connections. */
  readonly down = new Set<string>();
  latencyMs: () => number = () => 0;

  constructor(
    readonly sizeBytes: number,
    addresses: readonly string[],
  ) {
    for (const a of addresses) this.stores.set(a, new MemoryStore(sizeBytes));
  }

  readonly connect = (address: string): Promise<ReplicaConnection> => {
    const store = this.stores.get(address);
    if (store === undefined || this.down.has(address)) return Promise.reject(Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' }));
    const c = new MemoryReplica(store, () => this.latencyMs());
    this.conns.set(address, c);
    return Promise.resolve(c);
  };

  /** The store at an address (throws when absent: test helper). */
  storeOrThrow(address: string): MemoryStore {
    const s = this.stores.get(address);
    if (s === undefined) throw new Error(`no store at ${address}`);
    return s;
  }

  /** The current connection to an address (throws when absent: test helper). */
  connOrThrow(address: string): MemoryReplica {
    const c = this.conns.get(address);
    if (c === undefined) throw new Error(`no connection to ${address}`);
    return c;
  }
}
