import type { Replica } from '../../api/codecs/replica.ts';
import type { Logger } from '../../api/log.ts';
import type { ObjectStore } from '../../api/store/port.ts';
import type { Supervisor } from './supervisor.ts';
import { mergePatchBetween } from '../../api/store/patch.ts';

/** What the agent knows of the disk holding a replica (the disk manager's view). */
export interface DiskView {
  diskOf(r: Replica): { readonly name: string; readonly ready: boolean; readonly hung: boolean; readonly message: string } | undefined;
}

/** What the node-level reconcilers share. */
export interface InstanceDeps {
  readonly store: ObjectStore;
  readonly node: string;
  /** Address children listen on (127.0.0.1 in dev). */
  readonly host: string;
  readonly dataRoot: string;
  readonly log: Logger;
  readonly supervisor: Supervisor;
  readonly disks: DiskView;
  /** argv prefix that runs `shorthorn`. */
  readonly shorthornBin: readonly string[];
  readonly clusterSecret: Buffer;
}

/** An RFC 3339 timestamp without milliseconds, as Kubernetes writes them. */
export function stamp(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The fields of `next` whose values differ from `cur` (null for a key to remove), or undefined when none do. */
export function statusDelta(cur: Readonly<Record<string, unknown>> | undefined, next: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    const before = cur?.[k];
    if (v === undefined || v === null) {
      if (before !== undefined) out[k] = null;
    } else if (JSON.stringify(before) !== JSON.stringify(v)) out[k] = mergePatchBetween(before, v);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
