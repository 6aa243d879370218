/**
 * Domain failures of the engine's control operations, as values (the control API maps them to HTTP
 * statuses in one place).
 */
export type ControlError =
  | { readonly _tag: 'AlreadyPresent'; readonly address: string; readonly mode: string }
  | { readonly _tag: 'NotFound'; readonly address: string }
  | { readonly _tag: 'Unreachable'; readonly address: string; readonly cause: string }
  | { readonly _tag: 'Incompatible'; readonly address: string; readonly reason: string }
  | { readonly _tag: 'NoSource'; readonly address: string }
  | { readonly _tag: 'LastReplica'; readonly address: string };

/** One line for users. */
export function describeControlError(e: ControlError): string {
  switch (e._tag) {
    case 'AlreadyPresent':
      return `replica ${e.address} is already in the set (mode ${e.mode})`;
    case 'NotFound':
      return `replica ${e.address} is not in the set`;
    case 'Unreachable':
      return `replica ${e.address} is unreachable: ${e.cause}`;
    case 'Incompatible':
      return `replica ${e.address} cannot join: ${e.reason}`;
    case 'NoSource':
      return `replica ${e.address} cannot be rebuilt: no healthy RW replica to copy from`;
    case 'LastReplica':
      return `replica ${e.address} is the last healthy replica; removing it would fail the volume`;
  }
}

/** The engine cannot start: no replica can be trusted. Lists each replica's reason. */
export class EngineStartError extends Error {
  override readonly name = 'EngineStartError';
  readonly code = 'ENOREPLICA';
}

/** Rejects with a timeout error naming `what` if `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
