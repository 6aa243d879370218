import type { WriteOutcome } from './modes.ts';
import type { ReplicaHandle } from './replica-handle.ts';

/**
 * Sends one mutation to every target in parallel and waits for all of them. It never throws:
 * failures come back as data for `applyWriteOutcome` to judge.
 */
export function fanOut(targets: readonly ReplicaHandle[], send: (h: ReplicaHandle) => Promise<unknown>): Promise<WriteOutcome<ReplicaHandle>> {
  return new Promise((resolve) => {
    const acked: ReplicaHandle[] = [];
    const failed = new Map<ReplicaHandle, Error>();
    let left = targets.length;
    if (left === 0) {
      resolve({ acked, failed });
      return;
    }
    // (No named helper closure: tsx's keepNames would wrap it in __name on every call.)
    for (const h of targets) {
      send(h).then(
        () => {
          acked.push(h);
          if (--left === 0) resolve({ acked, failed });
        },
        (e: unknown) => {
          failed.set(h, e instanceof Error ? e : new Error(String(e)));
          if (--left === 0) resolve({ acked, failed });
        },
      );
    }
  });
}
