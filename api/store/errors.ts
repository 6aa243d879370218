/**
 * Store failures, modelled on the Kubernetes API's Status reasons. The store port throws these
 * (it is an I/O port, like client-node's ApiException); callers branch with `isStoreError(e, 'NotFound')`.
 */
export type StoreReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'Forbidden' | 'Gone' | 'BadRequest' | 'InternalError';

/** HTTP status of each reason, as the Kubernetes API answers it. */
export const STATUS_CODE: Readonly<Record<StoreReason, number>> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Invalid: 422,
  InternalError: 500,
};

/** A failed store call; `reason` says which rule refused it and `message` says it in words. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly reason: StoreReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get code(): number {
    return STATUS_CODE[this.reason];
  }
}

/** Is `e` a StoreError (of the given reason)? */
export function isStoreError(e: unknown, reason?: StoreReason): e is StoreError {
  return e instanceof StoreError && (reason === undefined || e.reason === reason);
}

/** The Kubernetes Status object for an error (what an API server sends). */
export function toStatus(e: StoreError): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code };
}
