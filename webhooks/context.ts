import type { Settings } from '../api/settings.ts';
import type { Node } from '../api/codecs/node.ts';
import type { Replica } from '../api/codecs/replica.ts';
import type { AdmissionRequest, JsonPatchOp } from '../api/store/port.ts';
import type { Finding } from './findings.ts';

/** What the rules may know of the cluster, read from the store before they run (rules do no I/O). */
export interface Facts {
  readonly settings: Settings;
  /** Every Shorthorn Node (Volume rules: zones and node count for warnings). */
  readonly nodes: readonly Node[];
  /** Every Replica (Node rules: which disks and nodes still hold data). */
  readonly replicas: readonly Replica[];
  /** The Volume a Replica or Engine names, on CREATE. */
  readonly volume: 'present' | 'missing' | 'deleting' | 'unknown';
}

/** What a mutator sees: the raw object (any shape), the stored one on UPDATE, and the facts. */
export interface MutateContext {
  readonly operation: AdmissionRequest['operation'];
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly facts: Facts;
}

/** A mutator: pure, returns JSON Patch operations that fill defaults; never fails. */
export type Mutator = (ctx: MutateContext) => JsonPatchOp[];

/** What a typed validation rule sees: the object decoded with its kind's codec, and the old one. */
export interface CheckContext<T> {
  readonly operation: AdmissionRequest['operation'];
  readonly name: string;
  readonly object: T;
  /** The stored object on UPDATE, when it decodes (transition rules are skipped otherwise). */
  readonly old: T | undefined;
  readonly facts: Facts;
}

/** A validation rule: pure, returns its findings (none when the object is fine). */
export type Check<T> = (ctx: CheckContext<T>) => readonly Finding[];

/** A rule run on DELETE, on the stored object. */
export type DeleteCheck<T> = (ctx: { readonly name: string; readonly old: T; readonly facts: Facts }) => readonly Finding[];

/** Which facts a request needs, so the chain reads no more than it must. */
export interface FactNeeds {
  readonly settings: boolean;
  readonly nodes: boolean;
  readonly replicas: boolean;
  readonly volumeName: string | undefined;
}
