import type { ByteRange, ReplicaInfo } from './connection.ts';

/**
 * What the replica server serves: the on-disk store (store.ts), or an in-memory one in tests.
 * Arguments arrive validated (sector-aligned, within the size). Methods reject with an Error whose
 * `code` is a Node fs code ('ENOSPC', 'EIO', …) or a ReplicaError; the server maps them to error
 * responses.
 *
 * Concurrency contract: calls overlap freely; each write is atomic per 512-byte sector; `flush`
 * makes durable every write that resolved before `flush` was called.
 */
export interface ReplicaBackend {
  /** Where the replica lives (its directory), for error messages. */
  readonly location: string;
  readonly sizeBytes: number;
  readonly sectorBytes: number;
  read(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  /** Reads [offset, offset + out.length) into the caller's `out` (the server's pooled reply buffers); optional. */
  readInto?(offsetBytes: number, out: Buffer): Promise<void>;
  /** NOTE: `data` may be retained until the promise settles; callers must not reuse it before. */
  write(offsetBytes: number, data: Buffer): Promise<void>;
  unmap(offsetBytes: number, lengthBytes: number): Promise<void>;
  flush(): Promise<void>;
  info(): ReplicaInfo;
  /** Allocated ranges within [offset, offset+length), at most `maxRanges` of them, in order. */
  allocatedRanges(offsetBytes: number, lengthBytes: number, maxRanges: number): ByteRange[];
  setRebuilding(rebuilding: boolean): Promise<void>;
  setRevision(revision: string): Promise<void>;
  setExtra(key: string, value: string | null): Promise<void>;
  /** Grows the volume to `sizeBytes` (validated: a multiple of the sector, at most 16 TiB); rejects with EINVAL below the current size. */
  expand(sizeBytes: number): Promise<void>;
}
