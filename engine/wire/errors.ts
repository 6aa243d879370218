/**
 * Wire errors. ProtocolError: the peer sent something we refuse (the connection is closed).
 * TransportError: the connection died with requests in flight (each pending request rejects with it).
 * ReplicaError: the replica answered a request with an error response (errno-like code + message).
 */

/** Errno-like codes carried by error responses, with their Linux numbers on the wire. */
export const Errno = {
  EIO: 5, // I/O error
  EACCES: 13, // authentication refused
  EINVAL: 22, // bad argument (alignment, range, payload shape)
  ENOSPC: 28, // no space left on the replica's disk
  ERANGE: 34, // past the end of the volume
  EPROTO: 71, // protocol violation
  ENOTSUP: 95, // operation not supported
} as const;
/** The name of an errno code. */
export type ErrnoName = keyof typeof Errno;

const BY_NUMBER = new Map<number, ErrnoName>(Object.entries(Errno).map(([k, v]) => [v, k as ErrnoName]));

/** The errno name for a wire number; unknown numbers read as EIO. */
export function errnoName(n: number): ErrnoName {
  return BY_NUMBER.get(n) ?? 'EIO';
}

/** The peer broke the protocol (bad magic, lengths past limits, unknown op, bad payload). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code = 'EPROTO';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The connection closed (or never opened) while a request was pending. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code = 'ETRANSPORT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The replica refused or failed a request; `code` says why (ENOSPC, EIO, EINVAL…). */
export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';
  constructor(
    readonly code: ErrnoName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
