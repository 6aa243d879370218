import * as k8s from '@kubernetes/client-node';
import * as E from 'fp-ts/Either';
import { decode, formatInputError } from '../decode.ts';
import { GROUP, VERSION } from '../codecs/meta.ts';
import { KINDS, type Kind, type ObjectOf } from '../kinds.ts';
import { StoreError, type StoreReason } from './errors.ts';
import type { DeleteOptions, ListOptions, ObjectStore, Patch, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from './port.ts';

const REASONS: readonly StoreReason[] = ['NotFound', 'AlreadyExists', 'Conflict', 'Invalid', 'Forbidden', 'Gone', 'BadRequest', 'InternalError'];

function parseBody(body: unknown): { message?: string; reason?: string } {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body };
    }
  }
  return (typeof body === 'object' && body !== null ? body : {}) as { message?: string; reason?: string };
}

/** Maps a client-node failure to a StoreError by the API server's Status (code and reason). */
export function fromApiError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  if (e instanceof k8s.ApiException) {
    const st = parseBody(e.body);
    const byCode: Record<number, StoreReason> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Gone', 422: 'Invalid' };
    const reason = REASONS.find((r) => r === st.reason) ?? (st.reason === 'Expired' ? 'Gone' : byCode[e.code]) ?? 'InternalError';
    return new StoreError(reason, st.message ?? `HTTP ${e.code}`, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new StoreError('InternalError', `cannot reach the API server: ${msg}`, { cause: e });
}

/**
 * The ObjectStore over a Kubernetes API server, through @kubernetes/client-node: CustomObjectsApi
 * for reads and writes, Watch for watches. Thin on purpose: the API server implements the
 * semantics; this adapter only maps calls, decodes what comes back, and maps errors.
 */
export class KubeStore implements ObjectStore {
  private readonly api: k8s.CustomObjectsApi;
  private readonly watcher: k8s.Watch;

  constructor(
    private readonly kc: k8s.KubeConfig,
    readonly namespace: string,
  ) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
    this.watcher = new k8s.Watch(kc);
  }

  private base(kind: Kind) {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural: KINDS[kind].plural };
  }

  /** Decodes what the server returned; a server sending a malformed object is an error, not data. */
  private decoded<K extends Kind>(kind: K, o: unknown): ObjectOf<K> {
    const r = decode(KINDS[kind].codec as never, o);
    if (E.isLeft(r)) throw new StoreError('InternalError', `the API server returned a malformed ${kind}: ${formatInputError(r.left)}`);
    return r.right as ObjectOf<K>;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw fromApiError(e);
    }
  }

  async get<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K>> {
    return this.decoded(kind, await this.call(() => this.api.getNamespacedCustomObject({ ...this.base(kind), name })));
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<{ items: ObjectOf<K>[]; resourceVersion: string }> {
    const r = (await this.call(() => this.api.listNamespacedCustomObject({ ...this.base(kind), ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) }))) as { items?: unknown[]; metadata?: { resourceVersion?: string } };
    return { items: (r.items ?? []).map((o) => this.decoded(kind, o)), resourceVersion: r.metadata?.resourceVersion ?? '' };
  }

  watch<K extends Kind>(kind: K, opts: WatchOptions, onEvent: (e: WatchEvent<K>) => void): WatchHandle {
    const b = this.base(kind);
    const path = `/apis/${b.group}/${b.version}/namespaces/${b.namespace}/${b.plural}`;
    const query: Record<string, string | boolean> = {};
    if (opts.resourceVersion !== undefined) query.resourceVersion = opts.resourceVersion;
    if (opts.labelSelector) query.labelSelector = opts.labelSelector;
    if (opts.allowBookmarks) query.allowWatchBookmarks = true;
    let stopped = false;
    let abort: AbortController | undefined;
    let failure: StoreError | undefined;
    let settle!: { resolve: () => void; reject: (e: Error) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const finish = (err?: unknown) => {
      if (failure) settle.reject(failure);
      else if (err && !stopped && !(err instanceof Error && err.name === 'AbortError')) settle.reject(fromApiError(err));
      else settle.resolve();
    };
    this.watcher
      .watch(path, query, (phase, obj) => {
        if (stopped || failure) return;
        try {
          if (phase === 'BOOKMARK') onEvent({ type: 'BOOKMARK', resourceVersion: String((obj as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '') });
          else if (phase === 'ERROR') {
            const st = obj as { code?: number; reason?: string; message?: string };
            failure = new StoreError(st.code === 410 ? 'Gone' : 'InternalError', st.message ?? 'watch error');
            abort?.abort();
          } else if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') onEvent({ type: phase, object: this.decoded(kind, obj) } as WatchEvent<K>);
        } catch (e) {
          failure = fromApiError(e);
          abort?.abort();
        }
      }, finish)
      .then((ac) => {
        abort = ac;
        if (stopped || failure) ac.abort();
      }, finish);
    return {
      stop: () => {
        stopped = true;
        abort?.abort();
      },
      done,
    };
  }

  async create<K extends Kind>(kind: K, obj: unknown, opts: WriteOptions = {}): Promise<ObjectOf<K>> {
    return this.decoded(kind, await this.call(() => this.api.createNamespacedCustomObject({ ...this.base(kind), body: obj as object, ...(opts.dryRun ? { dryRun: 'All' } : {}) })));
  }

  async update<K extends Kind>(kind: K, obj: ObjectOf<K>, opts: WriteOptions = {}): Promise<ObjectOf<K>> {
    return this.decoded(kind, await this.call(() => this.api.replaceNamespacedCustomObject({ ...this.base(kind), name: obj.metadata.name, body: obj, ...(opts.dryRun ? { dryRun: 'All' } : {}) })));
  }

  async updateStatus<K extends Kind>(kind: K, obj: ObjectOf<K>, opts: WriteOptions = {}): Promise<ObjectOf<K>> {
    return this.decoded(kind, await this.call(() => this.api.replaceNamespacedCustomObjectStatus({ ...this.base(kind), name: obj.metadata.name, body: obj, ...(opts.dryRun ? { dryRun: 'All' } : {}) })));
  }

  async patch<K extends Kind>(kind: K, name: string, patch: Patch, opts: WriteOptions & { subresource?: 'status' } = {}): Promise<ObjectOf<K>> {
    const contentType = patch.type === 'json' ? k8s.PatchStrategy.JsonPatch : k8s.PatchStrategy.MergePatch;
    const cfg = k8s.setHeaderOptions('Content-Type', contentType);
    const req = { ...this.base(kind), name, body: patch.type === 'json' ? patch.ops : patch.value, ...(opts.dryRun ? { dryRun: 'All' } : {}) };
    const out = await this.call(() => (opts.subresource === 'status' ? this.api.patchNamespacedCustomObjectStatus(req as never, cfg) : this.api.patchNamespacedCustomObject(req as never, cfg)));
    return this.decoded(kind, out);
  }

  async delete<K extends Kind>(kind: K, name: string, opts: DeleteOptions = {}): Promise<ObjectOf<K>> {
    const body = opts.resourceVersion !== undefined ? { preconditions: { resourceVersion: opts.resourceVersion } } : undefined;
    const out = await this.call(() => this.api.deleteNamespacedCustomObject({ ...this.base(kind), name, ...(opts.dryRun ? { dryRun: 'All' } : {}), ...(body ? { body } : {}) }));
    return this.decoded(kind, out);
  }
}
