/**
 * Unit attention conditions, queued per I_T nexus (SAM-5 §5.14, SPC-4 §5.14): the first command of a
 * new nexus sees POWER ON, RESET, OR BUS DEVICE RESET OCCURRED; resets, capacity changes, mode changes
 * and reservation changes queue theirs. A condition already queued is not queued twice.
 */
import type { AscPair } from './sense.ts';

/** Per-nexus unit attention queues. */
export class UnitAttentions {
  private readonly queues = new Map<string, AscPair[]>();

  /** True when the nexus has been seen since it (re)appeared. */
  has(nexus: string): boolean {
    return this.queues.has(nexus);
  }

  /** Starts tracking a nexus, with power-on/reset as its first condition. */
  greet(nexus: string, first: AscPair): void {
    this.queues.set(nexus, [first]);
  }

  /** Forgets a nexus (it logged out): its next login starts fresh. */
  forget(nexus: string): void {
    this.queues.delete(nexus);
  }

  /** Queues a condition on one nexus (an unknown nexus will get power-on first, which covers it). */
  post(nexus: string, asc: AscPair): void {
    const q = this.queues.get(nexus);
    if (q === undefined) return;
    if (!q.some((a) => a[0] === asc[0] && a[1] === asc[1])) q.push(asc);
  }

  /** Queues a condition on every known nexus except one. */
  postAll(asc: AscPair, except?: string): void {
    for (const n of this.queues.keys()) if (n !== except) this.post(n, asc);
  }

  /** Removes and returns the oldest condition of a nexus. */
  take(nexus: string): AscPair | undefined {
    return this.queues.get(nexus)?.shift();
  }
}
