import { read, write, fdatasync, fsync, ftruncate, open, close } from 'node:fs';

/**
 * Positional I/O on raw file descriptors through callback fs: cheaper per call than FileHandle
 * promises, and never blocking the event loop. Short reads and writes are completed in a loop.
 */

/** Reads exactly `length` bytes at `position` into `buf` at `at`; past EOF reads zeros. */
export function preadFull(fd: number, buf: Buffer, at: number, length: number, position: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const step = (done: number): void => {
      if (done === length) return resolve();
      read(fd, buf, at + done, length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) {
          buf.fill(0, at + done, at + length);
          return resolve();
        }
        step(done + n);
      });
    };
    step(0);
  });
}

/** Writes all of `buf` at `position`. */
export function pwriteFull(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const step = (done: number): void => {
      if (done === buf.length) return resolve();
      write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        step(done + n);
      });
    };
    step(0);
  });
}

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
