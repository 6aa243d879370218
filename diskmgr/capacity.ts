import { promises as fs } from 'node:fs';

/** A filesystem's size and free space for unprivileged writers, in bytes. */
export interface DiskCapacity {
  readonly maximumBytes: number;
  readonly availableBytes: number;
}

/** Reads a disk's capacity with statfs(2). Throws the fs error when the path cannot be read. */
export async function readDiskCapacity(path: string): Promise<DiskCapacity> {
  const s = await fs.statfs(path);
  return { maximumBytes: s.bsize * s.blocks, availableBytes: s.bsize * s.bavail };
}

/** The reserved bytes of a default disk: `percent` of its maximum, rounded down (Longhorn's storage-reserved-percentage-for-default-disk). */
export function defaultReservedBytes(maximumBytes: number, percent: number): number {
  return Math.floor((maximumBytes * percent) / 100);
}
