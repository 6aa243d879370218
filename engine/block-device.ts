/**
 * The one block I/O interface every frontend and backend speaks (Longhorn's ReaderWriterUnmapperAt):
 * the engine controller implements it, the iSCSI target and the benchmarks call it, tests use an
 * in-memory one. Offsets and lengths are in bytes and multiples of `blockSizeBytes`.
 *
 * Contract:
 * - `writeAt` resolves when the data is written (to every replica, for the engine); it is durable
 *   only after a later `flush` resolves, or at once when `fua` is set.
 * - `readAt` returns exactly `lengthBytes` bytes; unwritten and unmapped blocks read as zeros.
 * - Errors reject with an Error whose `code` says what kind: 'ENOSPC' (no space), 'EIO' (no healthy
 *   replica or an I/O failure), 'ERANGE' (past the end). The frontend maps them to sense data.
 * - Calls may overlap; the device keeps each call atomic per 512-byte block.
 */
export interface BlockDevice {
  readonly sizeBytes: number;
  readonly blockSizeBytes: number;
  readAt(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  writeAt(offsetBytes: number, data: Buffer, opts?: { fua?: boolean }): Promise<void>;
  unmapAt(offsetBytes: number, lengthBytes: number): Promise<void>;
  flush(): Promise<void>;
  /**
   * True when `writeAt` has copied `data` by the time its promise settles and never reads it again,
   * so the caller may reuse the buffer (the iSCSI target recycles large write buffers then). Leave
   * unset when the data may still sit in a queue, e.g. a socket to a replica that timed out.
   */
  readonly releasesWriteData?: boolean;
  /**
   * Optional: reads `dst.length` bytes at `offsetBytes` into `dst` (same contract as `readAt`), so a
   * caller can reuse its buffers (the iSCSI target pools its read buffers then).
   */
  readInto?(offsetBytes: number, dst: Buffer): Promise<void>;
  /** Optional: ranges that hold data (GET LBA STATUS, rebuild); absent means "all mapped". */
  mappedRanges?(offsetBytes: number, lengthBytes: number): Promise<Array<{ offsetBytes: number; lengthBytes: number }>>;
  /** Optional: subscribe to size changes (resize → capacity-changed unit attention). */
  onResize?(listener: (sizeBytes: number) => void): () => void;
}

/** An I/O error with a code the frontend understands. */
export class BlockIoError extends Error {
  override readonly name = 'BlockIoError';
  constructor(
    readonly code: 'ENOSPC' | 'EIO' | 'ERANGE' | 'EINVAL',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
