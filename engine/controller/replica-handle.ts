import type { ReplicaConnection, ReplicaInfo } from '../replica/connection.ts';
import type { ReplicaMode } from './modes.ts';

/**
 * One replica as the engine sees it: its address, mode, connection and the calls in flight on it.
 * Every call goes through `call`, which counts outstanding I/O (for read spreading), reports
 * latency, and lets the engine's sweeper time out calls that hang.
 *
 * Concurrency contract: any number of calls may be in flight; `fail` rejects all of them at once.
 */

/** The operations the engine sends, as metric labels. */
export type ReplicaOp = 'read' | 'write' | 'unmap' | 'flush' | 'ping' | 'info' | 'meta' | 'allocated';

/** Receives one sample per completed call (metrics; see metrics.ts ReplicaIoStats). */
export interface IoRecorder {
  record(op: ReplicaOp, bytes: number, seconds: number, ok: boolean): void;
}

/** A call that took longer than the per-I/O timeout. */
export class ReplicaTimeoutError extends Error {
  override readonly name = 'ReplicaTimeoutError';
  readonly code = 'ETIMEDOUT';
}

interface InFlight {
  readonly startMs: number;
  readonly op: ReplicaOp;
  readonly reject: (e: Error) => void;
}

/** Progress of a rebuild onto this replica. */
export interface RebuildProgress {
  readonly kind: 'full' | 'delta';
  readonly source: string;
  doneBytes: number;
  totalBytes: number;
  /** Bytes the copy skipped because a live write had already set them. */
  skippedBytes: number;
  readonly startedMs: number;
  /** Set when the copy has finished (successfully or not). */
  finishedMs: number | undefined;
  bytesPerSecond: number;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** A replica in the engine's set. */
export class ReplicaHandle {
  mode: ReplicaMode = 'ERR';
  /** Why it is ERR (names the cause; the address is added when shown). */
  cause: Error | undefined;
  conn: ReplicaConnection | undefined;
  info: ReplicaInfo | undefined;
  /** Calls in flight now. */
  outstanding = 0;
  /** Writes and unmaps sent since `info` was read: with info.revision, an upper bound of its revision. */
  mutationsSent = 0;
  rebuild: RebuildProgress | undefined;
  private readonly inflight = new Map<number, InFlight>();
  private seq = 0;

  constructor(
    readonly address: string,
    private readonly io: IoRecorder,
  ) {}

  /** The replica's store id, once it has answered `info`. */
  get replicaId(): string | undefined {
    return this.info?.replicaId;
  }

  /** Runs one call on the connection, tracked for timeouts and metrics. */
  call<T>(op: ReplicaOp, bytes: number, fn: (c: ReplicaConnection) => Promise<T>): Promise<T> {
    const conn = this.conn;
    if (conn === undefined || this.mode === 'ERR') return Promise.reject(this.cause ?? new Error(`replica ${this.address} is not connected`));
    const id = ++this.seq;
    const startMs = performance.now();
    this.outstanding++;
    return new Promise<T>((resolve, reject) => {
      this.inflight.set(id, { startMs, op, reject });
      fn(conn).then(
        (v) => {
          if (!this.inflight.delete(id)) return;
          this.outstanding--;
          this.io.record(op, bytes, (performance.now() - startMs) / 1000, true);
          resolve(v);
        },
        (e: unknown) => {
          if (!this.inflight.delete(id)) return;
          this.outstanding--;
          this.io.record(op, bytes, (performance.now() - startMs) / 1000, false);
          reject(toError(e));
        },
      );
    });
  }

  /** The oldest call in flight longer than `timeoutMs`, as an error, if any. */
  overdue(nowMs: number, timeoutMs: number): ReplicaTimeoutError | undefined {
    // Map iteration is insertion order: the first entry is the oldest.
    for (const f of this.inflight.values()) {
      if (nowMs - f.startMs < timeoutMs) return undefined;
      return new ReplicaTimeoutError(`${f.op} timed out after ${timeoutMs} ms`);
    }
    return undefined;
  }

  /** Rejects every call in flight with `cause` and closes the connection. */
  fail(cause: Error): void {
    const pending = [...this.inflight.values()];
    this.inflight.clear();
    this.outstanding = 0;
    for (const f of pending) f.reject(cause);
    const conn = this.conn;
    this.conn = undefined;
    conn?.close();
  }
}
