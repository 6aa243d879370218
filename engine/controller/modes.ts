import { BlockIoError } from '../block-device.ts';

/**
 * Replica modes (Longhorn's RW/WO/ERR) and the one policy function that turns the result of a
 * fanned-out write into mode changes and the I/O's own result.
 */

/** A replica's mode: RW serves reads and writes, WO only receives writes (rebuilding), ERR is out of the set. */
export type ReplicaMode = 'RW' | 'WO' | 'ERR';

/** Every mode, for exhaustive tables and metrics. */
export const REPLICA_MODES: readonly ReplicaMode[] = ['RW', 'WO', 'ERR'];

/** Whether a replica in this mode receives writes. */
export function isWritable(mode: ReplicaMode): boolean {
  return mode === 'RW' || mode === 'WO';
}

/** Whether a replica in this mode may serve reads. */
export function isReadable(mode: ReplicaMode): boolean {
  return mode === 'RW';
}

/** The result of one fanned-out write, unmap or flush: failures are data (Longhorn's MultiWriterError). */
export interface WriteOutcome<Id> {
  readonly acked: readonly Id[];
  readonly failed: ReadonlyMap<Id, Error>;
}

/** What the engine must do after a write: replicas to set ERR (with their cause) and the I/O's result. */
export interface WriteDecision<Id> {
  readonly setErr: ReadonlyMap<Id, Error>;
  /** Undefined: the I/O succeeded. */
  readonly error: BlockIoError | undefined;
}

/** Whether an error is an out-of-space report from a replica. */
export function isNoSpace(e: Error): boolean {
  return (e as { code?: unknown }).code === 'ENOSPC' || /\bENOSPC\b/.test(e.message);
}

/**
 * Decides the consequences of a write that went to `writable` (id → mode at issue time):
 * - every failed replica goes ERR, except when ALL writable replicas ran out of space: then none
 *   does (the volume stays readable, as Longhorn returns ENOSPC without dropping replicas) and the
 *   I/O fails ENOSPC;
 * - the I/O succeeds while at least one RW replica acked; otherwise it fails EIO.
 */
export function applyWriteOutcome<Id>(writable: ReadonlyMap<Id, ReplicaMode>, outcome: WriteOutcome<Id>, describe: (id: Id) => string = String): WriteDecision<Id> {
  const failed = [...outcome.failed];
  if (failed.length > 0 && failed.length === writable.size && failed.every(([, e]) => isNoSpace(e))) {
    const names = failed.map(([id]) => describe(id)).join(', ');
    return { setErr: new Map(), error: new BlockIoError('ENOSPC', `no space left on any replica (${names})`, { cause: failed[0]?.[1] }) };
  }
  const setErr = new Map(outcome.failed);
  const rwAcked = outcome.acked.some((id) => writable.get(id) === 'RW');
  if (rwAcked) return { setErr, error: undefined };
  const reasons = failed.map(([id, e]) => `${describe(id)}: ${e.message}`).join('; ');
  const message = writable.size === 0 ? 'no healthy replica left' : `no healthy replica acknowledged the write${reasons ? ` (${reasons})` : ''}`;
  return { setErr, error: new BlockIoError('EIO', message, { cause: failed[0]?.[1] }) };
}
