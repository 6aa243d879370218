import { readFile, rename, truncate } from 'node:fs/promises';
import { AllocationMap, type BlockRun } from './allocation-map.ts';
import { crc32 } from './crc32.ts';
import { closeFd, datasync, openFd, pwriteFull, syncDir } from './fs-io.ts';
import { dirname } from 'node:path';

/**
 * A layer's persisted allocation record: an append-only log of block runs allocated or freed.
 *
 *   header (16 bytes): "SHALOG01" | u32 blockBytes | u32 crc32(bytes 0..11)
 *   record (16 bytes): u8 kind (1 allocate, 2 free) | 3 × 0 | u32 startBlock | u32 count | u32 crc32(bytes 0..11)
 *
 * All big-endian. Records are appended only after the data they describe is fdatasync'ed, so a
 * record never points at data that is not on disk. A torn tail (a crash during an append) fails
 * its checksum and is cut off at open: the records of an unacknowledged flush are simply not there.
 */

const MAGIC = Buffer.from('SHALOG01', 'latin1');
/** Bytes of the header and of each record. */
export const LOG_RECORD_BYTES = 16;
const KIND_ALLOCATE = 1;
const KIND_FREE = 2;
/** Longest run in one record (u32 count, kept well inside). */
const MAX_RUN = 0x4000_0000;

/** What replaying a log found. */
export interface ReplayResult {
  readonly map: AllocationMap;
  readonly records: number;
  /** Bytes of a torn or corrupt tail that were cut off. */
  readonly droppedBytes: number;
}

/** A problem with a log file that makes the store unusable. */
export interface LogCorrupt {
  readonly _tag: 'LogCorrupt';
  readonly path: string;
  readonly detail: string;
}

function header(blockBytes: number): Buffer {
  const b = Buffer.alloc(LOG_RECORD_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt32BE(blockBytes, 8);
  b.writeUInt32BE(crc32(b, 0, 12), 12);
  return b;
}

/** Encodes runs as records of one kind. */
export function encodeRuns(kind: 'allocate' | 'free', runs: Iterable<BlockRun>): Buffer[] {
  const out: Buffer[] = [];
  for (const r of runs) {
    for (let s = r.start; s < r.start + r.count; s += MAX_RUN) {
      const rec = Buffer.alloc(LOG_RECORD_BYTES);
      rec[0] = kind === 'allocate' ? KIND_ALLOCATE : KIND_FREE;
      rec.writeUInt32BE(s, 4);
      rec.writeUInt32BE(Math.min(MAX_RUN, r.start + r.count - s), 8);
      rec.writeUInt32BE(crc32(rec, 0, 12), 12);
      out.push(rec);
    }
  }
  return out;
}

/** Creates an empty log (header only), durable. */
export async function createLog(path: string, blockBytes: number): Promise<void> {
  const fd = await openFd(path, 'w');
  try {
    await pwriteFull(fd, header(blockBytes), 0);
    await datasync(fd);
  } finally {
    await closeFd(fd);
  }
}

/** Replays a log into a map; cuts a torn tail off the file. */
export async function replayLog(path: string, blockBytes: number, blockCount: number): Promise<ReplayResult | LogCorrupt> {
  const raw = await readFile(path);
  if (raw.length < LOG_RECORD_BYTES || !raw.subarray(0, 8).equals(MAGIC) || raw.readUInt32BE(12) !== crc32(raw, 0, 12)) return { _tag: 'LogCorrupt', path, detail: 'bad header' };
  if (raw.readUInt32BE(8) !== blockBytes) return { _tag: 'LogCorrupt', path, detail: `block size ${raw.readUInt32BE(8)}, metadata says ${blockBytes}` };
  const map = new AllocationMap(blockCount);
  let at = LOG_RECORD_BYTES;
  let records = 0;
  for (; at + LOG_RECORD_BYTES <= raw.length; at += LOG_RECORD_BYTES) {
    const kind = raw[at];
    const start = raw.readUInt32BE(at + 4);
    const count = raw.readUInt32BE(at + 8);
    if (raw.readUInt32BE(at + 12) !== crc32(raw, at, at + 12) || (kind !== KIND_ALLOCATE && kind !== KIND_FREE) || start + count > blockCount) break;
    if (kind === KIND_ALLOCATE) map.setRun(start, count);
    else map.clearRun(start, count);
    records++;
  }
  const droppedBytes = raw.length - at;
  if (droppedBytes > 0) await truncate(path, at);
  return { map, records, droppedBytes };
}

/** An open log, appended to at flush time. Appends must not overlap (the store serialises flushes). */
export class AllocLog {
  private constructor(
    private fd: number,
    private endBytes: number,
    readonly path: string,
    private readonly blockBytes: number,
    /** Records in the file, to decide when to compact. */
    public records: number,
  ) {}

  /** Opens a replayed log for appending at its end. */
  static async open(path: string, blockBytes: number, records: number): Promise<AllocLog> {
    const fd = await openFd(path, 'r+');
    return new AllocLog(fd, LOG_RECORD_BYTES * (records + 1), path, blockBytes, records);
  }

  /** Appends records and makes them durable. On failure the end is not advanced (a retry overwrites). */
  async append(records: readonly Buffer[]): Promise<void> {
    if (records.length === 0) return;
    await pwriteFull(this.fd, Buffer.concat(records), this.endBytes);
    await datasync(this.fd);
    this.endBytes += records.length * LOG_RECORD_BYTES;
    this.records += records.length;
  }

  /** Replaces the log with one holding just `map`'s runs: written aside, synced, renamed over. */
  async compact(map: AllocationMap): Promise<void> {
    const tmp = `${this.path}.compact`;
    const recs = encodeRuns('allocate', map.runs());
    const fd = await openFd(tmp, 'w');
    try {
      await pwriteFull(fd, Buffer.concat([header(this.blockBytes), ...recs]), 0);
      await datasync(fd);
    } catch (e) {
      await closeFd(fd);
      throw e;
    }
    await rename(tmp, this.path);
    await syncDir(dirname(this.path));
    await closeFd(this.fd);
    this.fd = fd;
    this.endBytes = LOG_RECORD_BYTES * (recs.length + 1);
    this.records = recs.length;
  }

  async close(): Promise<void> {
    await closeFd(this.fd);
  }
}
