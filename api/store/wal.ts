import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, existsSync, writeSync, ftruncateSync, unlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The embedded store's files in one directory:
 *   snapshot.json — every object at one resourceVersion, replaced atomically (write tmp, fsync, rename, fsync dir);
 *   wal.log       — one record a line, `<crc32 hex8> <json>\n`, appended and fdatasync'ed before a write is acknowledged;
 *   lock          — the pid of the process that has the store open.
 * Replay = snapshot, then every log record newer than it. A last line with no newline is a write
 * that was never acknowledged (the crash came mid-append) and is dropped; any other bad line is
 * corruption, reported with its line number, and nothing is rewritten.
 */

/** One logged change. */
export interface WalRecord {
  readonly rv: number;
  readonly kind: string;
  readonly name: string;
  /** The object after the change; null when the object was removed. */
  readonly object: Record<string, unknown> | null;
}

export interface Snapshot {
  readonly format: 'shorthorn-store/1';
  readonly resourceVersion: number;
  readonly objects: Record<string, Record<string, Record<string, unknown>>>;
}

/** The store's files are unusable; the message says which file, where and why. */
export class CorruptStoreError extends Error {
  override readonly name = 'CorruptStoreError';
  readonly code = 'ECORRUPTSTORE';
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeFileDurably(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeLine(line: string, lineNo: number, path: string): WalRecord {
  const sp = line.indexOf(' ');
  const bad = (why: string) => new CorruptStoreError(`${path}: line ${lineNo} is corrupt (${why}); the store was not opened and nothing was changed. Restore the file, or move it away to start from the last snapshot.`);
  if (sp !== 8 || !/^[0-9a-f]{8}$/.test(line.slice(0, 8))) throw bad('no checksum prefix');
  const body = line.slice(9);
  const want = parseInt(line.slice(0, 8), 16);
  if (crc32(Buffer.from(body, 'utf8')) !== want) throw bad('checksum mismatch');
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw bad('not JSON');
  }
  if (!isRecord(v) || typeof v.rv !== 'number' || typeof v.kind !== 'string' || typeof v.name !== 'string' || !(v.object === null || isRecord(v.object))) {
    throw bad('not a store record');
  }
  return v as unknown as WalRecord;
}

/** Encodes a record as one log line. */
export function encodeRecord(r: WalRecord): string {
  const body = JSON.stringify(r);
  return `${crc32(Buffer.from(body, 'utf8')).toString(16).padStart(8, '0')} ${body}\n`;
}

function readSnapshot(path: string): Snapshot | undefined {
  if (!existsSync(path)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CorruptStoreError(`${path} is not valid JSON (${(e as Error).message}); the store was not opened and nothing was changed`);
  }
  if (!isRecord(v) || v.format !== 'shorthorn-store/1' || typeof v.resourceVersion !== 'number' || !isRecord(v.objects)) {
    throw new CorruptStoreError(`${path} is not a Shorthorn store snapshot (format, resourceVersion or objects missing); the store was not opened and nothing was changed`);
  }
  return v as unknown as Snapshot;
}

/** An open log: replayed contents and an append handle. Synchronous I/O: writes are serialized by the store. */
export class Wal {
  private fd: number;
  private records = 0;
  private bytes = 0;

  private constructor(
    private readonly dir: string,
    fd: number,
    readonly snapshot: Snapshot | undefined,
    readonly replay: readonly WalRecord[],
  ) {
    this.fd = fd;
    this.records = replay.length;
  }

  /** Opens (creating if absent) the store directory, takes the lock and replays the files. */
  static open(dir: string): Wal {
    mkdirSync(dir, { recursive: true });
    takeLock(join(dir, 'lock'));
    try {
      const snapshot = readSnapshot(join(dir, 'snapshot.json'));
      const walPath = join(dir, 'wal.log');
      const text = existsSync(walPath) ? readFileSync(walPath, 'utf8') : '';
      const lines = text.split('\n');
      const torn = lines.pop() ?? '';
      const replay: WalRecord[] = [];
      const since = snapshot?.resourceVersion ?? 0;
      let lastRv = since;
      lines.forEach((line, i) => {
        const rec = decodeLine(line, i + 1, walPath);
        if (rec.rv <= since) return;
        if (rec.rv <= lastRv) throw new CorruptStoreError(`${walPath}: line ${i + 1} goes back in resourceVersion (${rec.rv} after ${lastRv}); the store was not opened and nothing was changed`);
        lastRv = rec.rv;
        replay.push(rec);
      });
      const fd = openSync(walPath, 'a+');
      // A torn final line was never acknowledged: cut it so the next record starts on a line of its own.
      if (torn !== '') {
        ftruncateSync(fd, Buffer.byteLength(text, 'utf8') - Buffer.byteLength(torn, 'utf8'));
        fsyncSync(fd);
      }
      const wal = new Wal(dir, fd, snapshot, replay);
      wal.bytes = Buffer.byteLength(text, 'utf8') - Buffer.byteLength(torn, 'utf8');
      return wal;
    } catch (e) {
      releaseLock(join(dir, 'lock'));
      throw e;
    }
  }

  /** Appends records and makes them durable (fdatasync) before returning. */
  append(recs: readonly WalRecord[]): void {
    const data = recs.map(encodeRecord).join('');
    const buf = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    fsyncSync(this.fd);
    this.records += recs.length;
    this.bytes += buf.length;
  }

  /** Is the log long enough that a snapshot should replace it? */
  wantsCompaction(maxBytes: number): boolean {
    return this.bytes > maxBytes;
  }

  /** Writes a snapshot of everything up to `snap.resourceVersion` atomically, then starts an empty log. */
  compact(snap: Snapshot): void {
    writeFileDurably(join(this.dir, 'snapshot.json'), JSON.stringify(snap));
    fsyncDir(this.dir);
    // Records up to the snapshot's version are skipped on replay, so a crash between these steps is safe.
    writeFileDurably(join(this.dir, 'wal.log.new'), '');
    renameSync(join(this.dir, 'wal.log.new'), join(this.dir, 'wal.log'));
    fsyncDir(this.dir);
    closeSync(this.fd);
    this.fd = openSync(join(this.dir, 'wal.log'), 'a+');
    this.records = 0;
    this.bytes = 0;
  }

  close(): void {
    closeSync(this.fd);
    releaseLock(join(this.dir, 'lock'));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(path: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const buf = Buffer.alloc(32);
      const fd = openSync(path, 'r');
      const n = readSync(fd, buf, 0, 32, 0);
      closeSync(fd);
      const pid = Number(buf.subarray(0, n).toString('utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new Error(`${path}: the store is open in process ${pid}; stop it first`);
      }
      // The holder died (SIGKILL): its lock is stale.
      unlinkSync(path);
    }
  }
  throw new Error(`${path}: could not take the store lock`);
}

function releaseLock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
