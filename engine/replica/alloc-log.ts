import { readFile, rename, truncate } from 'node:fs/promises';
import { AllocationMap, type BlockRun } from './allocation-map.ts';
import { crc32 } from './crc32.ts';
import { closeFd, datasync, openFd, pwriteFull, syncDir, truncateFd } from './fs-io.ts';
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

/** Record kinds, and the runs they cover. */
export type RunBatch = readonly ['allocate' | 'free', Iterable<BlockRun>];

/** Records per write while appending: 64 KiB at a time, whatever the number of runs. */
const RECORDS_PER_WRITE = 4096;

/** Encodes runs as records, in batches of at most RECORDS_PER_WRITE records. */
export function* encodeRuns(batches: readonly RunBatch[]): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(RECORDS_PER_WRITE * LOG_RECORD_BYTES);
  let n = 0;
  for (const [kind, runs] of batches) {
    for (const r of runs) {
      for (let s = r.start; s < r.start + r.count; s += MAX_RUN) {
        const at = n * LOG_RECORD_BYTES;
        buf.fill(0, at, at + LOG_RECORD_BYTES);
        buf[at] = kind === 'allocate' ? KIND_ALLOCATE : KIND_FREE;
        buf.writeUInt32BE(s, at + 4);
        buf.writeUInt32BE(Math.min(MAX_RUN, r.start + r.count - s), at + 8);
        buf.writeUInt32BE(crc32(buf, at, at + 12), at + 12);
        if (++n === RECORDS_PER_WRITE) {
          yield buf;
          buf = Buffer.allocUnsafe(RECORDS_PER_WRITE * LOG_RECORD_BYTES);
          n = 0;
        }
      }
    }
  }
  if (n > 0) yield buf.subarray(0, n * LOG_RECORD_BYTES);
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

  /** Appends the runs' records and makes them durable. On failure the end is not advanced (a retry overwrites). */
  async append(batches: readonly RunBatch[]): Promise<void> {
    let end = this.endBytes;
    try {
      for (const chunk of encodeRuns(batches)) {
        await pwriteFull(this.fd, chunk, end);
        end += chunk.length;
      }
      if (end === this.endBytes) return;
      await datasync(this.fd);
    } catch (e) {
      // Valid records past the end would be replayed after a shorter later append: cut them off.
      await truncateFd(this.fd, this.endBytes).catch(() => undefined);
      throw e;
    }
    this.records += (end - this.endBytes) / LOG_RECORD_BYTES;
    this.endBytes = end;
  }

  /** Replaces the log with one holding just `map`'s runs: written aside, synced, renamed over. */
  async compact(map: AllocationMap): Promise<void> {
    const tmp = `${this.path}.compact`;
    const fd = await openFd(tmp, 'w');
    let end = LOG_RECORD_BYTES;
    try {
      await pwriteFull(fd, header(this.blockBytes), 0);
      for (const chunk of encodeRuns([['allocate', map.runs()]])) {
        await pwriteFull(fd, chunk, end);
        end += chunk.length;
      }
      await datasync(fd);
    } catch (e) {
      await closeFd(fd);
      throw e;
    }
    await rename(tmp, this.path);
    await syncDir(dirname(this.path));
    await closeFd(this.fd);
    this.fd = fd;
    this.endBytes = end;
    this.records = end / LOG_RECORD_BYTES - 1;
  }

  async close(): Promise<void> {
    await closeFd(this.fd);
  }
}
