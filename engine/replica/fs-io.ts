import { readSync, fdatasync, fsync, ftruncate, open, close } from 'node:fs';
import { pwriteAllSync } from '../io/write-pieces.ts';

/**
 * Positional I/O on raw file descriptors. Data reads and writes are synchronous pread/pwrite: a
 * 4 KiB copy into or out of the page cache costs 1–3 µs, a trip through libuv's thread pool tens of
 * µs of CPU on two threads (wake a worker, wake the loop, settle a promise), and the replica process
 * serves one volume whose I/O would queue on the same file anyway. What can take milliseconds —
 * fdatasync, fsync, open — stays asynchronous. Short reads and writes are completed in a loop; the
 * results are still promises, and errors (ENOSPC, EIO) reject them.
 */

/** Reads exactly `length` bytes at `position` into `buf` at `at`; past EOF reads zeros. */
export function preadFull(fd: number, buf: Buffer, at: number, length: number, position: number): Promise<void> {
  try {
    for (let done = 0; done < length; ) {
      const n = readSync(fd, buf, at + done, length - done, position + done);
      if (n === 0) {
        buf.fill(0, at + done, at + length);
        break;
      }
      done += n;
    }
    return RESOLVED;
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

/** Writes all of `buf` at `position`, in pwrites of at most `pieceBytes` (see engine/io/write-pieces.ts). */
export function pwriteFull(fd: number, buf: Buffer, position: number, pieceBytes = Infinity): Promise<void> {
  try {
    pwriteAllSync(fd, buf, 0, buf.length, position, pieceBytes);
    return RESOLVED;
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** fdatasync as a promise. */
export function datasync(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Opens a file; resolves its descriptor. */
export function openFd(path: string, flags: string | number): Promise<number> {
  return new Promise<number>((resolve, reject) => open(path, flags, 0o600, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Closes a descriptor. */
export function closeFd(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync of a directory, so a rename or a new file in it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await openFd(dir, 'r');
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    await closeFd(fd);
  }
}

/** ftruncate as a promise. */
export function truncateFd(fd: number, lengthBytes: number): Promise<void> {
  return new Promise<void>((resolve, reject) => ftruncate(fd, lengthBytes, (err) => (err ? reject(err) : resolve())));
}
