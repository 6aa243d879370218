import { BlockIoError, type BlockDevice } from '../../engine/block-device.ts';

/** Options for an in-memory block device (tests inject faults and thin-provisioning maps through them). */
export interface MemoryDeviceOptions {
  readonly blockSizeBytes?: number;
  /** Track which 4 KiB regions hold data, so `mappedRanges` answers (GET LBA STATUS). */
  readonly trackMapping?: boolean;
}

const MAP_UNIT = 4096;

/** An in-memory BlockDevice with fault injection, flush/fua counters and an optional allocation map. */
export class MemoryDevice implements BlockDevice {
  readonly blockSizeBytes: number;
  sizeBytes: number;
  data: Buffer;
  /** Next calls fail with this code (consumed one per call) when set. */
  failNext: Array<'ENOSPC' | 'EIO' | 'ERANGE' | 'EINVAL'> = [];
  flushes = 0;
  fuaWrites = 0;
  private readonly mapped: Set<number> | undefined;
  private readonly listeners = new Set<(sizeBytes: number) => void>();

  constructor(sizeBytes: number, opts: MemoryDeviceOptions = {}) {
    this.blockSizeBytes = opts.blockSizeBytes ?? 512;
    this.sizeBytes = sizeBytes;
    this.data = Buffer.alloc(sizeBytes);
    this.mapped = opts.trackMapping === true ? new Set() : undefined;
  }

  private check(offsetBytes: number, lengthBytes: number): void {
    const code = this.failNext.shift();
    if (code !== undefined) throw new BlockIoError(code, `injected ${code}`);
    if (offsetBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) throw new BlockIoError('ERANGE', 'past the end');
  }

  async readAt(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    this.check(offsetBytes, lengthBytes);
    return Buffer.from(this.data.subarray(offsetBytes, offsetBytes + lengthBytes));
  }

  async writeAt(offsetBytes: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    this.check(offsetBytes, data.length);
    data.copy(this.data, offsetBytes);
    if (opts?.fua === true) this.fuaWrites++;
    if (this.mapped !== undefined) {
      for (let u = Math.floor(offsetBytes / MAP_UNIT); u * MAP_UNIT < offsetBytes + data.length; u++) this.mapped.add(u);
    }
  }

  async unmapAt(offsetBytes: number, lengthBytes: number): Promise<void> {
    this.check(offsetBytes, lengthBytes);
    this.data.fill(0, offsetBytes, offsetBytes + lengthBytes);
    if (this.mapped !== undefined) {
      const first = Math.ceil(offsetBytes / MAP_UNIT);
      const end = Math.floor((offsetBytes + lengthBytes) / MAP_UNIT);
      for (let u = first; u < end; u++) this.mapped.delete(u);
    }
  }

  async flush(): Promise<void> {
    this.check(0, 0);
    this.flushes++;
  }

  async mappedRanges(offsetBytes: number, lengthBytes: number): Promise<Array<{ offsetBytes: number; lengthBytes: number }>> {
    if (this.mapped === undefined) return [{ offsetBytes, lengthBytes }];
    const out: Array<{ offsetBytes: number; lengthBytes: number }> = [];
    const end = offsetBytes + lengthBytes;
    for (let u = Math.floor(offsetBytes / MAP_UNIT); u * MAP_UNIT < end; u++) {
      if (this.mapped?.has(u) !== true) continue;
      const s = Math.max(u * MAP_UNIT, offsetBytes);
      const e = Math.min((u + 1) * MAP_UNIT, end);
      const last = out[out.length - 1];
      if (last !== undefined && last.offsetBytes + last.lengthBytes === s) last.lengthBytes += e - s;
      else out.push({ offsetBytes: s, lengthBytes: e - s });
    }
    return out;
  }

  onResize(listener: (sizeBytes: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Grows (or shrinks) the device and tells subscribers. */
  resize(sizeBytes: number): void {
    const next = Buffer.alloc(sizeBytes);
    this.data.copy(next, 0, 0, Math.min(sizeBytes, this.data.length));
    this.data = next;
    this.sizeBytes = sizeBytes;
    for (const l of this.listeners) l(sizeBytes);
  }
}
