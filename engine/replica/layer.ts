import { constants } from 'node:fs';
import { join } from 'node:path';
import { AllocationMap } from './allocation-map.ts';
import { AllocLog, createLog, replayLog, type LogCorrupt } from './alloc-log.ts';
import { closeFd, datasync, openFd, preadFull, pwriteFull } from './fs-io.ts';
import { writePieceBytesFor } from '../io/write-pieces.ts';

/**
 * Bytes of volume per data file. ext4 caps a file at 16 TiB − 4 KiB, so a 16 TiB volume could not
 * keep its last block in one file: each layer's data is split into 8 TiB segment files.
 */
export const SEGMENT_BYTES = 8 * 2 ** 40;

/** The data file of segment `i` of a layer: `<name>.img`, `<name>.img.1`, … */
export function segmentFile(name: string, i: number): string {
  return i === 0 ? `${name}.img` : `${name}.img.${i}`;
}

/**
 * One layer of the chain: sparse data files (block b at volume byte b × blockBytes) and the
 * allocation log `<name>.alloc`, replayed into an in-memory map. Snapshot layers are read-only;
 * only the head's log is appended to.
 */
export class Layer {
  private constructor(
    readonly name: string,
    /** Descriptors of the segment files. */
    private readonly fds: number[],
    /** Blocks this layer holds (for the head: including writes not yet flushed). */
    readonly map: AllocationMap,
    private headLog: AllocLog | null,
    /** Bytes of a torn log tail cut off when it was opened. */
    readonly droppedLogBytes: number,
    /** The largest single pwrite of data (writePieceBytesFor: 64 KiB on ext4). */
    private readonly writePieceBytes: number,
  ) {}

  /**
   * Creates a new, empty layer's files (durable once the directory is synced). Files of that name
   * left by a crash before the chain named them are truncated: a new name is never in the chain.
   */
  static async create(dir: string, name: string, blockBytes: number, sizeBytes: number): Promise<void> {
    for (let i = 0; i * SEGMENT_BYTES < sizeBytes; i++) await closeFd(await openFd(join(dir, segmentFile(name, i)), 'w'));
    await createLog(join(dir, `${name}.alloc`), blockBytes);
  }

  /** Opens an existing layer, replaying its log. */
  static async open(dir: string, name: string, blockBytes: number, sizeBytes: number, writable: boolean): Promise<Layer | LogCorrupt> {
    const logPath = join(dir, `${name}.alloc`);
    const replay = await replayLog(logPath, blockBytes, Math.ceil(sizeBytes / blockBytes));
    if ('_tag' in replay) return replay;
    const fds: number[] = [];
    try {
      for (let i = 0; i * SEGMENT_BYTES < sizeBytes; i++) fds.push(await openFd(join(dir, segmentFile(name, i)), writable ? 'r+' : 'r'));
    } catch (e) {
      for (const fd of fds) await closeFd(fd);
      throw e;
    }
    const log = writable ? await AllocLog.open(logPath, blockBytes, replay.records) : null;
    return new Layer(name, fds, replay.map, log, replay.droppedBytes, await writePieceBytesFor(dir));
  }

  /**
   * Covers `sizeBytes` of volume from now on (expansion): opens the segment files the larger size
   * needs, creating empty ones (never truncating one a crashed expansion left), and grows the map.
   * The new blocks are unallocated, so they read as zeros. The caller syncs the directory and then
   * records the size in the metadata: until then the old size stands and extra files are harmless.
   */
  async grow(dir: string, sizeBytes: number, blockBytes: number): Promise<void> {
    const writable = this.headLog !== null;
    for (let i = this.fds.length; i * SEGMENT_BYTES < sizeBytes; i++) {
      this.fds.push(await openFd(join(dir, segmentFile(this.name, i)), constants.O_CREAT | (writable ? constants.O_RDWR : constants.O_RDONLY)));
    }
    this.map.grow(Math.ceil(sizeBytes / blockBytes));
  }

  /** The head's log; null for read-only layers. */
  get log(): AllocLog | null {
    return this.headLog;
  }

  /** Reads volume bytes [pos, pos+length) of this layer into buf at `at` (one pread unless it spans segments). */
  pread(buf: Buffer, at: number, length: number, pos: number): Promise<void> {
    const seg = Math.floor(pos / SEGMENT_BYTES);
    const segEnd = (seg + 1) * SEGMENT_BYTES;
    if (pos + length <= segEnd) return preadFull(this.fds[seg] as number, buf, at, length, pos - seg * SEGMENT_BYTES);
    const first = segEnd - pos;
    return Promise.all([this.pread(buf, at, first, pos), this.pread(buf, at + first, length - first, segEnd)]).then(() => undefined);
  }

  /** Writes `data` at volume byte `pos` (one pwrite unless it spans segments). */
  pwrite(data: Buffer, pos: number): Promise<void> {
    const seg = Math.floor(pos / SEGMENT_BYTES);
    const segEnd = (seg + 1) * SEGMENT_BYTES;
    if (pos + data.length <= segEnd) return pwriteFull(this.fds[seg] as number, data, pos - seg * SEGMENT_BYTES, this.writePieceBytes);
    const first = segEnd - pos;
    return Promise.all([this.pwrite(data.subarray(0, first), pos), this.pwrite(data.subarray(first), segEnd)]).then(() => undefined);
  }

  /** fdatasync of every segment file. */
  async sync(): Promise<void> {
    await Promise.all(this.fds.map((fd) => datasync(fd)));
  }

  /** Makes this layer read-only (it becomes a snapshot): its log is closed for good. */
  async freeze(): Promise<void> {
    const log = this.headLog;
    this.headLog = null;
    await log?.close();
  }

  async close(): Promise<void> {
    await this.freeze();
    for (const fd of this.fds) await closeFd(fd);
  }
}
