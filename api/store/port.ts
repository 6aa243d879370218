import type { AnyObject, Kind, ObjectOf } from '../kinds.ts';

/** An RFC 6902 JSON Patch operation. */
export type JsonPatchOp =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'move' | 'copy'; readonly from: string; readonly path: string };

/** A patch: RFC 6902 JSON Patch or RFC 7386 JSON Merge Patch. */
export type Patch = { readonly type: 'json'; readonly ops: readonly JsonPatchOp[] } | { readonly type: 'merge'; readonly value: Record<string, unknown> };

/** A watch event, as the Kubernetes watch API sends them. */
export type WatchEvent<K extends Kind = Kind> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: ObjectOf<K> }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string };

export interface ListOptions {
  /** Kubernetes label selector (`a=b,c!=d,e in (x,y),f,!g`). */
  readonly labelSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /**
   * Start after this resourceVersion. Absent: ADDED for every current object, then changes. When the
   * version is older than the store remembers, the watch ends with a `Gone` StoreError: relist.
   */
  readonly resourceVersion?: string;
  /** Ask for BOOKMARK events that carry the latest resourceVersion while nothing changes. */
  readonly allowBookmarks?: boolean;
}

/** A running watch. `done` settles when it ends: resolved when stopped, rejected on error or Gone. */
export interface WatchHandle {
  stop(): void;
  readonly done: Promise<void>;
}

export interface WriteOptions {
  /** Run admission and checks, store nothing (kubectl --dry-run=server). */
  readonly dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  /** Precondition: delete only this version (Conflict otherwise). */
  readonly resourceVersion?: string;
}

/**
 * The object store every controller talks to: the subset of the Kubernetes API that Shorthorn
 * uses, for the namespaced custom resources of shorthorn.io/v1beta1 in one namespace. Both adapters
 * (embedded, Kubernetes) behave as an API server does: optimistic concurrency on resourceVersion,
 * finalizers and deletionTimestamp, status as a subresource, admission before every write.
 * Failures are thrown as StoreError.
 */
export interface ObjectStore {
  readonly namespace: string;
  get<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K>>;
  list<K extends Kind>(kind: K, opts?: ListOptions): Promise<{ items: ObjectOf<K>[]; resourceVersion: string }>;
  watch<K extends Kind>(kind: K, opts: WatchOptions, onEvent: (e: WatchEvent<K>) => void): WatchHandle;
  /** Creates; metadata.name (or generateName) is required. AlreadyExists if taken. */
  create<K extends Kind>(kind: K, obj: ObjectOf<K> | Omit<ObjectOf<K>, 'metadata'> & { metadata: Partial<AnyObject['metadata']> }, opts?: WriteOptions): Promise<ObjectOf<K>>;
  /** Replaces spec and metadata (status is ignored); Conflict if metadata.resourceVersion is stale. */
  update<K extends Kind>(kind: K, obj: ObjectOf<K>, opts?: WriteOptions): Promise<ObjectOf<K>>;
  /** Replaces status only; Conflict if metadata.resourceVersion is stale. */
  updateStatus<K extends Kind>(kind: K, obj: ObjectOf<K>, opts?: WriteOptions): Promise<ObjectOf<K>>;
  /** Patches the object (or its status with subresource 'status'). */
  patch<K extends Kind>(kind: K, name: string, patch: Patch, opts?: WriteOptions & { subresource?: 'status' }): Promise<ObjectOf<K>>;
  /**
   * Deletes. With finalizers the object stays, with deletionTimestamp set, until an update removes
   * the last one. Returns the object as it is after the call (or as it was, when removed).
   */
  delete<K extends Kind>(kind: K, name: string, opts?: DeleteOptions): Promise<ObjectOf<K>>;
}

/** What an admission chain is asked (AdmissionReview's request, trimmed to what the store knows). */
export interface AdmissionRequest {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly kind: Kind;
  readonly name: string;
  readonly namespace: string;
  readonly subResource?: 'status';
  /** The object to be written (absent on DELETE). */
  readonly object?: unknown;
  /** The object as stored (UPDATE, DELETE). */
  readonly oldObject?: unknown;
  readonly dryRun: boolean;
}

/** What an admission chain answers: the (possibly mutated) object, or a refusal with its message. */
export type AdmissionOutcome =
  | { readonly allowed: true; readonly object?: unknown; readonly warnings: readonly string[] }
  | { readonly allowed: false; readonly code: number; readonly message: string };

/** Mutating then validating admission, as an API server runs its webhooks. */
export type Admission = (req: AdmissionRequest) => Promise<AdmissionOutcome>;
