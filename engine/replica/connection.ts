/**
 * What the engine needs of one replica, whether it is reached over the wire (engine/wire/client.ts)
 * or in-process (tests). This is the seam between engine/replica + engine/wire (the replica side)
 * and engine/controller (the engine side).
 *
 * Concurrency contract: many calls may be in flight at once (pipelined); each resolves or rejects
 * independently. When the connection dies, every pending call rejects with a TransportError and
 * `closed` resolves with the cause.
 */
export interface ByteRange {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** What a replica says about itself (the `info` op). */
export interface ReplicaInfo {
  /** A UUID made when the replica's store was created: a returning replica is recognised by it. */
  readonly replicaId: string;
  readonly sizeBytes: number;
  readonly sectorBytes: number;
  /** Writes applied so far (Longhorn's revision counter), as a decimal string (it is a 64-bit count). */
  readonly revision: string;
  /** Layer names, oldest snapshot first, live head last. */
  readonly chain: readonly string[];
  /** The store was not closed cleanly and has not been flushed since it reopened. */
  readonly dirty: boolean;
  /** The replica is (or was, when it stopped) the target of a rebuild: never a rebuild source. */
  readonly rebuilding: boolean;
  /** Small durable key/value records the engine keeps on the replica (e.g. regions another replica missed). */
  readonly extras: Readonly<Record<string, string>>;
}

export interface ReplicaConnection {
  readAt(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  /**
   * Optional: reads `dst.length` bytes into the caller's `dst`. Once the connection is closed (or
   * the call has settled) it never writes into `dst` again.
   */
  readInto?(offsetBytes: number, dst: Buffer): Promise<void>;
  writeAt(offsetBytes: number, data: Buffer): Promise<void>;
  unmapAt(offsetBytes: number, lengthBytes: number): Promise<void>;
  /** Data, allocation records and metadata durable before it resolves. */
  flush(): Promise<void>;
  ping(): Promise<void>;
  info(): Promise<ReplicaInfo>;
  /** Ranges holding data in any layer, within [offset, offset+length). */
  allocatedRanges(offsetBytes: number, lengthBytes: number): Promise<ByteRange[]>;
  /** Marks (or clears) the rebuilding flag, durably. */
  setRebuilding(rebuilding: boolean): Promise<void>;
  /** Sets the revision counter (after a rebuild, to the source's), durably. */
  setRevision(revision: string): Promise<void>;
  /** Grows the replica's volume to `sizeBytes`, durably (a no-op at its size; refused below it). */
  expand(sizeBytes: number): Promise<void>;
  /** Sets (value string) or deletes (null) a durable extra record. */
  setExtra(key: string, value: string | null): Promise<void>;
  close(): void;
  /** Resolves when the connection is gone, with the reason. */
  readonly closed: Promise<Error>;
}
