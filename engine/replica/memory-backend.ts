import { randomUUID } from 'node:crypto';
import type { ByteRange, ReplicaInfo } from './connection.ts';
import type { ReplicaBackend } from './backend.ts';
import { ReplicaError } from '../wire/errors.ts';

const SECTOR = 512;

/**
 * A ReplicaBackend in memory (tests, and in-process replicas): one Buffer per written 512-byte
 * sector, no durability. `failNext` makes the next write fail with a given fs-style code.
 */
export class MemoryBackend implements ReplicaBackend {
  readonly sectorBytes = SECTOR;
  readonly location: string;
  private readonly sectors = new Map<number, Buffer>();
  private revision = 0;
  private rebuilding = false;
  private readonly extras: Record<string, string> = {};
  private readonly replicaId = randomUUID();
  /** When set, the next write rejects with an Error carrying this code. */
  failNext: string | null = null;

  constructor(
    public sizeBytes: number,
    location = 'memory',
  ) {
    this.location = location;
  }

  async expand(sizeBytes: number): Promise<void> {
    if (sizeBytes < this.sizeBytes) throw new ReplicaError('EINVAL', `replica ${this.location}: cannot shrink from ${this.sizeBytes} to ${sizeBytes} bytes`);
    this.sizeBytes = sizeBytes;
  }

  async read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    const out = Buffer.alloc(lengthBytes);
    for (let at = 0; at < lengthBytes; at += SECTOR) this.sectors.get((offsetBytes + at) / SECTOR)?.copy(out, at);
    return out;
  }

  async write(offsetBytes: number, data: Buffer): Promise<void> {
    if (this.failNext !== null) {
      const code = this.failNext;
      this.failNext = null;
      throw Object.assign(new Error(`${code}: simulated failure`), { code });
    }
    for (let at = 0; at < data.length; at += SECTOR) this.sectors.set((offsetBytes + at) / SECTOR, Buffer.from(data.subarray(at, at + SECTOR)));
    this.revision++;
  }

  async unmap(offsetBytes: number, lengthBytes: number): Promise<void> {
    for (let at = 0; at < lengthBytes; at += SECTOR) this.sectors.delete((offsetBytes + at) / SECTOR);
  }

  async flush(): Promise<void> {}

  info(): ReplicaInfo {
    return { replicaId: this.replicaId, sizeBytes: this.sizeBytes, sectorBytes: SECTOR, revision: String(this.revision), chain: ['head'], dirty: false, rebuilding: this.rebuilding, extras: { ...this.extras } };
  }

  allocatedRanges(offsetBytes: number, lengthBytes: number, maxRanges: number): ByteRange[] {
    const lbas = [...this.sectors.keys()].filter((l) => l * SECTOR >= offsetBytes && l * SECTOR < offsetBytes + lengthBytes).sort((a, b) => a - b);
    const out: ByteRange[] = [];
    for (const l of lbas) {
      const last = out[out.length - 1];
      if (last !== undefined && last.offsetBytes + last.lengthBytes === l * SECTOR) out[out.length - 1] = { offsetBytes: last.offsetBytes, lengthBytes: last.lengthBytes + SECTOR };
      else if (out.length === maxRanges) break;
      else out.push({ offsetBytes: l * SECTOR, lengthBytes: SECTOR });
    }
    return out;
  }

  async setRebuilding(rebuilding: boolean): Promise<void> {
    this.rebuilding = rebuilding;
  }

  async setRevision(revision: string): Promise<void> {
    this.revision = Number(revision);
  }

  async setExtra(key: string, value: string | null): Promise<void> {
    if (value === null) delete this.extras[key];
    else this.extras[key] = value;
  }
}
