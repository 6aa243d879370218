import { randomBytes, randomUUID } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { decode, Dns1123Subdomain, formatInputError } from '../decode.ts';
import { API_VERSION } from '../codecs/meta.ts';
import { KINDS, type AnyObject, type Kind, type ObjectOf } from '../kinds.ts';
import { StoreError } from './errors.ts';
import { parseSelector, matchesSelector, type Selector } from './label-selector.ts';
import { applyPatch } from './patch.ts';
import type { Admission, AdmissionRequest, DeleteOptions, ListOptions, ObjectStore, Patch, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from './port.ts';
import { Wal, type WalRecord } from './wal.ts';
import { WatchHub, type Change } from './watch-hub.ts';

type Meta = {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  finalizers?: string[];
};
type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Meta; status?: unknown };

export interface EmbeddedStoreOptions {
  /** Directory for the store's files; absent = in memory only (tests). */
  readonly dir?: string;
  readonly namespace?: string;
  /** Admission chain run before every write (mutate then validate). */
  readonly admission?: Admission;
  /** Watch history kept for resuming watches (events). */
  readonly historyLimit?: number;
  /** Compact the log into a snapshot past this many bytes. */
  readonly compactBytes?: number;
  readonly bookmarkIntervalMs?: number;
  /** Clock, for deletion and creation timestamps. */
  readonly now?: () => Date;
}

const ALPHANUM = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(n: number): string {
  const b = randomBytes(n);
  return [...b].map((x) => ALPHANUM[x % ALPHANUM.length]).join('');
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function bodyOf(o: Obj): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

function conflict(kind: Kind, name: string): StoreError {
  return new StoreError('Conflict', `Operation cannot be fulfilled on ${KINDS[kind].plural}.shorthorn.io "${name}": the object has been modified; please apply your changes to the latest version and try again`);
}

function notFound(kind: Kind, name: string): StoreError {
  return new StoreError('NotFound', `${KINDS[kind].plural}.shorthorn.io "${name}" not found`);
}

/**
 * The store for one machine: Kubernetes API semantics over an in-memory map, made durable by a
 * fsynced log (wal.ts) before any write is acknowledged. Writes are serialized; reads are not.
 * Concurrency contract: every mutating call goes through `serial`, so admission, the
 * resourceVersion check and the log append of one write never interleave with another's.
 */
export class EmbeddedStore implements ObjectStore {
  readonly namespace: string;
  private readonly objects = new Map<Kind, Map<string, Obj>>();
  private rv = 0;
  private readonly wal: Wal | undefined;
  private readonly hub: WatchHub;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;
  private closed = false;

  private constructor(private readonly opts: EmbeddedStoreOptions) {
    this.namespace = opts.namespace ?? 'shorthorn-system';
    this.now = opts.now ?? (() => new Date());
    for (const k of Object.keys(KINDS) as Kind[]) this.objects.set(k, new Map());
    let startRv = 0;
    const replayed: Change[] = [];
    if (opts.dir !== undefined) {
      this.wal = Wal.open(opts.dir);
      const snap = this.wal.snapshot;
      if (snap) {
        for (const [kind, byName] of Object.entries(snap.objects)) {
          const m = this.objects.get(kind as Kind);
          if (m === undefined) continue;
          for (const [name, o] of Object.entries(byName)) m.set(name, o as Obj);
        }
        this.rv = snap.resourceVersion;
      }
      startRv = this.rv;
      for (const r of this.wal.replay) {
        const before = this.objects.get(r.kind as Kind)?.get(r.name) ?? null;
        this.applyRecord(r);
        replayed.push({ rv: r.rv, kind: r.kind as Kind, before, after: (r.object ?? before) as Obj | null, removed: r.object === null });
      }
    }
    this.hub = new WatchHub(opts.historyLimit ?? 20000, startRv, opts.bookmarkIntervalMs ?? 1000, () => this.rv);
    // Replayed log records are history too: a watch from before a restart resumes from them.
    for (const c of replayed) this.hub.publish(c);
  }

  /** Opens (or creates) a store. Throws CorruptStoreError when its files are damaged. */
  static open(opts: EmbeddedStoreOptions = {}): EmbeddedStore {
    return new EmbeddedStore(opts);
  }

  private applyRecord(r: WalRecord): void {
    const m = this.objects.get(r.kind as Kind);
    if (m === undefined) return;
    if (r.object === null) m.delete(r.name);
    else m.set(r.name, r.object as Obj);
    this.rv = r.rv;
  }

  /** The latest resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.closeAll();
    this.wal?.close();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new StoreError('InternalError', 'the store is closed');
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private map(kind: Kind): Map<string, Obj> {
    if (!(kind in KINDS)) throw new StoreError('NotFound', `the server could not find the requested resource (kind ${String(kind)})`);
    return this.objects.get(kind) as Map<string, Obj>;
  }

  async get<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K>> {
    const o = this.map(kind).get(name);
    if (o === undefined) throw notFound(kind, name);
    return structuredClone(o) as ObjectOf<K>;
  }

  private selector(s: string | undefined): Selector {
    const r = parseSelector(s ?? '');
    if (E.isLeft(r)) throw new StoreError('BadRequest', `labelSelector: ${r.left}`);
    return r.right;
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<{ items: ObjectOf<K>[]; resourceVersion: string }> {
    const sel = this.selector(opts.labelSelector);
    const items = [...this.map(kind).values()]
      .filter((o) => matchesSelector(sel, o.metadata.labels))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
      .map((o) => structuredClone(o) as ObjectOf<K>);
    return { items, resourceVersion: String(this.rv) };
  }

  watch<K extends Kind>(kind: K, opts: WatchOptions, onEvent: (e: WatchEvent<K>) => void): WatchHandle {
    const sel = this.selector(opts.labelSelector);
    let from: number | undefined;
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
      from = Number(opts.resourceVersion);
      if (!Number.isSafeInteger(from) || from < 0) throw new StoreError('BadRequest', `resourceVersion: not a valid version "${opts.resourceVersion}"`);
    }
    const initial = () => [...this.map(kind).values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)).map((o) => structuredClone(o));
    return this.hub.watch(kind, sel, from, initial, onEvent as (e: WatchEvent) => void, opts.allowBookmarks === true);
  }

  private async admit(req: AdmissionRequest): Promise<Obj | undefined> {
    if (this.opts.admission === undefined) return req.object as Obj | undefined;
    const out = await this.opts.admission(req);
    if (!out.allowed) throw new StoreError(out.code === 403 ? 'Forbidden' : 'Invalid', out.message);
    return (out.object ?? req.object) as Obj | undefined;
  }

  /** The CRD schema step: the object must decode with its kind's codec. */
  private check(kind: Kind, o: Obj): void {
    const r = decode(KINDS[kind].codec as never, o);
    if (E.isLeft(r)) throw new StoreError('Invalid', `${kind} "${o.metadata.name}" is invalid: ${formatInputError(r.left)}`);
  }

  private commit(kind: Kind, name: string, before: Obj | null, after: Obj | null, removed: boolean, dryRun: boolean): Obj {
    const result = after ?? before;
    if (result === null) throw new Error('invariant: commit with nothing');
    if (dryRun) return structuredClone(result);
    const rv = this.rv + 1;
    const stored = after === null ? null : { ...after, metadata: { ...after.metadata, resourceVersion: String(rv) } };
    const rec: WalRecord = { rv, kind, name, object: removed ? null : stored };
    try {
      this.wal?.append([rec]);
    } catch (e) {
      throw new StoreError('InternalError', `could not persist the write: ${(e as Error).message}`, { cause: e });
    }
    this.rv = rv;
    const m = this.map(kind);
    if (removed) m.delete(name);
    else m.set(name, stored as Obj);
    const final = removed ? { ...(stored ?? before), metadata: { ...(stored ?? before)!.metadata, resourceVersion: String(rv) } } as Obj : (stored as Obj);
    this.hub.publish({ rv, kind, before, after: final, removed });
    this.maybeCompact();
    return structuredClone(final);
  }

  private maybeCompact(): void {
    if (this.wal === undefined || !this.wal.wantsCompaction(this.opts.compactBytes ?? 8 * 1024 * 1024)) return;
    const objects: Record<string, Record<string, Record<string, unknown>>> = {};
    for (const [k, m] of this.objects) objects[k] = Object.fromEntries(m);
    this.wal.compact({ format: 'shorthorn-store/1', resourceVersion: this.rv, objects });
  }

  create<K extends Kind>(kind: K, input: unknown, opts: WriteOptions = {}): Promise<ObjectOf<K>> {
    return this.serial(async () => {
      const o = structuredClone(input) as Obj;
      if (typeof o !== 'object' || o === null || typeof o.metadata !== 'object' || o.metadata === null) throw new StoreError('BadRequest', `${kind}: metadata is required`);
      if (o.apiVersion !== API_VERSION || o.kind !== kind) throw new StoreError('BadRequest', `${kind}: apiVersion must be ${API_VERSION} and kind ${kind}, got ${String(o.apiVersion)} ${String(o.kind)}`);
      if (o.metadata.resourceVersion !== undefined && o.metadata.resourceVersion !== '') throw new StoreError('BadRequest', 'metadata.resourceVersion: must not be set on create');
      if ((o.metadata.name ?? '') === '') {
        if (o.metadata.generateName === undefined || o.metadata.generateName === '') throw new StoreError('Invalid', 'metadata.name: required (or metadata.generateName)');
        o.metadata.name = `${o.metadata.generateName}${suffix(5)}`;
      }
      const nameCheck = decode(Dns1123Subdomain, o.metadata.name);
      if (E.isLeft(nameCheck)) throw new StoreError('Invalid', `metadata.name: ${formatInputError(nameCheck.left).replace(/^: /, '')}`);
      const name = o.metadata.name;
      if (this.map(kind).has(name)) throw new StoreError('AlreadyExists', `${KINDS[kind].plural}.shorthorn.io "${name}" already exists`);
      // CRDs with a status subresource drop status on create.
      if (KINDS[kind].hasStatus) delete o.status;
      const { deletionTimestamp: _d, deletionGracePeriodSeconds: _g, ...meta } = o.metadata;
      o.metadata = { ...meta, namespace: this.namespace, uid: randomUUID(), generation: 1, creationTimestamp: stamp(this.now()) };
      const admitted = await this.admit({ operation: 'CREATE', kind, name, namespace: this.namespace, object: o, dryRun: opts.dryRun === true });
      const final = { ...(admitted as Obj), metadata: { ...(admitted as Obj).metadata, name, namespace: this.namespace, uid: o.metadata.uid, generation: 1, creationTimestamp: o.metadata.creationTimestamp } };
      if (KINDS[kind].hasStatus) delete final.status;
      this.check(kind, final);
      return this.commit(kind, name, null, final, false, opts.dryRun === true) as ObjectOf<K>;
    });
  }

  private current(kind: Kind, name: string): Obj {
    const o = this.map(kind).get(name);
    if (o === undefined) throw notFound(kind, name);
    return o;
  }

  private requireVersion(kind: Kind, o: Obj, cur: Obj, required: boolean): void {
    const v = o.metadata?.resourceVersion;
    if (v === undefined || v === '') {
      if (required) throw new StoreError('Invalid', `${kind} "${cur.metadata.name}": metadata.resourceVersion: must be specified for an update`);
      return;
    }
    if (v !== cur.metadata.resourceVersion) throw conflict(kind, cur.metadata.name);
  }

  /** Shared by update and patch: the new object from the main resource (status kept from the stored one). */
  private async writeMain(kind: Kind, cur: Obj, next: Obj, dryRun: boolean): Promise<Obj> {
    const name = cur.metadata.name;
    if (next.metadata?.name !== undefined && next.metadata.name !== name) throw new StoreError('BadRequest', `metadata.name: cannot change from "${name}" to "${next.metadata.name}"`);
    if (next.apiVersion !== API_VERSION || next.kind !== kind) throw new StoreError('BadRequest', `${kind}: apiVersion must be ${API_VERSION} and kind ${kind}`);
    const curFin = cur.metadata.finalizers ?? [];
    const nextFin = next.metadata.finalizers ?? [];
    if (cur.metadata.deletionTimestamp !== undefined && nextFin.some((f) => !curFin.includes(f))) {
      throw new StoreError('Forbidden', `${kind} "${name}": metadata.finalizers: no new finalizers can be added if the object is being deleted`);
    }
    const meta: Meta = {
      ...next.metadata,
      name,
      namespace: this.namespace,
      uid: cur.metadata.uid,
      creationTimestamp: cur.metadata.creationTimestamp,
      generation: cur.metadata.generation,
      resourceVersion: cur.metadata.resourceVersion,
    };
    if (cur.metadata.deletionTimestamp !== undefined) {
      meta.deletionTimestamp = cur.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = cur.metadata.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    let out: Obj = { ...next, metadata: meta };
    if (KINDS[kind].hasStatus) {
      if (cur.status === undefined) delete out.status;
      else out.status = cur.status;
    }
    const admitted = await this.admit({ operation: 'UPDATE', kind, name, namespace: this.namespace, object: out, oldObject: structuredClone(cur), dryRun });
    out = { ...(admitted as Obj), metadata: { ...(admitted as Obj).metadata, ...pick(meta) } };
    if (KINDS[kind].hasStatus) {
      if (cur.status === undefined) delete out.status;
      else out.status = cur.status;
    }
    this.check(kind, out);
    if (!same(bodyOf(out), bodyOf(cur))) out.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    if (same(out, cur)) return structuredClone(cur);
    const removed = out.metadata.deletionTimestamp !== undefined && (out.metadata.finalizers ?? []).length === 0;
    return this.commit(kind, name, cur, out, removed, dryRun);
  }

  private async writeStatus(kind: Kind, cur: Obj, status: unknown, dryRun: boolean): Promise<Obj> {
    if (!KINDS[kind].hasStatus) throw new StoreError('NotFound', `${kind} has no status subresource`);
    const name = cur.metadata.name;
    let out: Obj = { ...structuredClone(cur), status };
    if (status === undefined) delete out.status;
    const admitted = await this.admit({ operation: 'UPDATE', kind, name, namespace: this.namespace, subResource: 'status', object: out, oldObject: structuredClone(cur), dryRun });
    out = { ...structuredClone(cur), status: (admitted as Obj).status };
    this.check(kind, out);
    if (same(out, cur)) return structuredClone(cur);
    return this.commit(kind, name, cur, out, false, dryRun);
  }

  update<K extends Kind>(kind: K, obj: ObjectOf<K>, opts: WriteOptions = {}): Promise<ObjectOf<K>> {
    return this.serial(async () => {
      const o = structuredClone(obj) as unknown as Obj;
      const cur = this.current(kind, o.metadata?.name);
      this.requireVersion(kind, o, cur, true);
      return (await this.writeMain(kind, cur, o, opts.dryRun === true)) as ObjectOf<K>;
    });
  }

  updateStatus<K extends Kind>(kind: K, obj: ObjectOf<K>, opts: WriteOptions = {}): Promise<ObjectOf<K>> {
    return this.serial(async () => {
      const o = structuredClone(obj) as unknown as Obj;
      const cur = this.current(kind, o.metadata?.name);
      this.requireVersion(kind, o, cur, true);
      return (await this.writeStatus(kind, cur, o.status, opts.dryRun === true)) as ObjectOf<K>;
    });
  }

  patch<K extends Kind>(kind: K, name: string, patch: Patch, opts: WriteOptions & { subresource?: 'status' } = {}): Promise<ObjectOf<K>> {
    return this.serial(async () => {
      const cur = this.current(kind, name);
      const r = applyPatch(cur, patch);
      if (E.isLeft(r)) throw new StoreError('Invalid', `${kind} "${name}": ${r.left}`);
      const next = r.right as Obj;
      if (typeof next !== 'object' || next === null || typeof next.metadata !== 'object') throw new StoreError('Invalid', `${kind} "${name}": the patch removed metadata`);
      // A resourceVersion the patch sets is a precondition, as in Kubernetes.
      if (next.metadata.resourceVersion !== cur.metadata.resourceVersion) this.requireVersion(kind, next, cur, false);
      const out = opts.subresource === 'status' ? await this.writeStatus(kind, cur, next.status, opts.dryRun === true) : await this.writeMain(kind, cur, next, opts.dryRun === true);
      return out as ObjectOf<K>;
    });
  }

  delete<K extends Kind>(kind: K, name: string, opts: DeleteOptions = {}): Promise<ObjectOf<K>> {
    return this.serial(async () => {
      const cur = this.current(kind, name);
      if (opts.resourceVersion !== undefined && opts.resourceVersion !== cur.metadata.resourceVersion) throw conflict(kind, name);
      await this.admit({ operation: 'DELETE', kind, name, namespace: this.namespace, oldObject: structuredClone(cur), dryRun: opts.dryRun === true });
      if ((cur.metadata.finalizers ?? []).length === 0) return this.commit(kind, name, cur, cur, true, opts.dryRun === true) as ObjectOf<K>;
      if (cur.metadata.deletionTimestamp !== undefined) return structuredClone(cur) as ObjectOf<K>;
      const out: Obj = {
        ...structuredClone(cur),
        metadata: { ...cur.metadata, deletionTimestamp: stamp(this.now()), deletionGracePeriodSeconds: 0, generation: (cur.metadata.generation ?? 1) + 1 },
      };
      return this.commit(kind, name, cur, out, false, opts.dryRun === true) as ObjectOf<K>;
    });
  }
}

/** The system-owned metadata fields that admission may not change. */
function pick(m: Meta): Partial<Meta> {
  const out: Partial<Meta> = { name: m.name, namespace: m.namespace, uid: m.uid, creationTimestamp: m.creationTimestamp, generation: m.generation, resourceVersion: m.resourceVersion };
  if (m.deletionTimestamp !== undefined) {
    out.deletionTimestamp = m.deletionTimestamp;
    out.deletionGracePeriodSeconds = m.deletionGracePeriodSeconds;
  }
  return out;
}

/** Any object of the store (re-exported for adapters). */
export type { AnyObject };
