import * as E from 'fp-ts/Either';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../api/log.ts';
import { humanBytes } from '../../api/quantity.ts';
import type { LogCorrupt } from './alloc-log.ts';
import { syncDir } from './fs-io.ts';
import { Layer } from './layer.ts';
import { checkVolumeSize, FORMAT_VERSION, METADATA_FILE, readMetadata, writeMetadata, type MetadataCorrupt, type ReplicaMetadata } from './metadata.ts';
import { STATE_FILE, StateFile, readState } from './state.ts';
import { ReplicaStore } from './store.ts';

const BLOCK_BYTES = 4096;
const FIRST_LAYER = 'layer-000001';

/** Why a replica directory cannot be opened. */
export type StoreOpenError =
  | MetadataCorrupt
  | LogCorrupt
  | { readonly _tag: 'SizeMismatch'; readonly dir: string; readonly storeBytes: number; readonly requestedBytes: number }
  | { readonly _tag: 'BadSize'; readonly requestedBytes: number; readonly rule: string }
  | { readonly _tag: 'StateCorrupt'; readonly path: string; readonly detail: string };

/** One line for the user. */
export function describeStoreError(e: StoreOpenError): string {
  switch (e._tag) {
    case 'MetadataCorrupt':
      return `corrupt replica metadata ${e.path}: ${e.detail}`;
    case 'LogCorrupt':
      return `corrupt allocation log ${e.path}: ${e.detail}`;
    case 'SizeMismatch':
      return `replica ${e.dir} holds a volume of ${e.storeBytes} bytes (${humanBytes(e.storeBytes)}), not the ${e.requestedBytes} bytes (${humanBytes(e.requestedBytes)}) asked for`;
    case 'BadSize':
      return `size ${e.requestedBytes}: ${e.rule}`;
    case 'StateCorrupt':
      return `corrupt replica state ${e.path}: ${e.detail}`;
  }
}

/** Options of openStore. */
export interface OpenStoreOptions {
  readonly dir: string;
  readonly sizeBytes: number;
  readonly log?: Logger;
  /** Log records beyond which a flush considers compacting the head's log (tests lower it). */
  readonly compactMinRecords?: number;
  /** A store smaller than `sizeBytes` grows to it (ReplicaStore.expand) instead of being refused. */
  readonly allowGrow?: boolean;
}

/**
 * Opens the store in `dir`, creating it when the directory holds no metadata. Refuses (as a value)
 * a directory whose metadata, state or logs are corrupt or whose size differs (with `allowGrow`, only
 * one that is larger: a smaller one grows).
 */
export async function openStore(opts: OpenStoreOptions): Promise<E.Either<StoreOpenError, ReplicaStore>> {
  const log = opts.log ?? createLogger('replica-store', { fields: { dir: opts.dir } });
  const bad = checkVolumeSize(opts.sizeBytes);
  if (bad !== null) return E.left({ _tag: 'BadSize', requestedBytes: opts.sizeBytes, rule: bad });
  await mkdir(opts.dir, { recursive: true });
  const found = await readMetadata(opts.dir);
  if (E.isLeft(found)) return found;
  const meta = found.right ?? (await createStore(opts.dir, opts.sizeBytes, log));
  const grow = opts.allowGrow === true && meta.sizeBytes < opts.sizeBytes;
  if (meta.sizeBytes !== opts.sizeBytes && !grow) return E.left({ _tag: 'SizeMismatch', dir: opts.dir, storeBytes: meta.sizeBytes, requestedBytes: opts.sizeBytes });
  const st = await readState(opts.dir);
  if (st === null) return E.left({ _tag: 'StateCorrupt', path: join(opts.dir, STATE_FILE), detail: 'no valid slot' });
  const layers: Layer[] = [];
  const fail = async (e: StoreOpenError) => {
    for (const l of layers) await l.close();
    return E.left(e);
  };
  for (const [i, name] of meta.chain.entries()) {
    let layer: Layer | LogCorrupt;
    try {
      layer = await Layer.open(opts.dir, name, meta.blockBytes, meta.sizeBytes, i === meta.chain.length - 1);
    } catch (e) {
      return fail({ _tag: 'MetadataCorrupt', path: join(opts.dir, METADATA_FILE), detail: `layer ${name}: ${(e as Error).message}` });
    }
    if ('_tag' in layer) return fail(layer);
    if (layer.droppedLogBytes > 0) log.warn('cut a torn allocation log tail (an unacknowledged flush)', { layer: name, bytes: layer.droppedLogBytes });
    layers.push(layer);
  }
  const state = await StateFile.open(opts.dir, st.seq);
  // Until closed cleanly again, a crash must show as dirty on the next open.
  await state.write({ revision: st.state.revision, clean: false });
  log.info('replica store open', { replicaId: meta.replicaId, sizeBytes: meta.sizeBytes, revision: st.state.revision, chain: meta.chain, dirty: !st.state.clean });
  const store = new ReplicaStore(opts.dir, meta, layers, state, st.state.revision, !st.state.clean, log, opts.compactMinRecords);
  if (grow) {
    try {
      await store.expand(opts.sizeBytes);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  return E.right(store);
}

/** Creates a new store's files; volume.json is written last, so a half-created store is never taken for one. */
async function createStore(dir: string, sizeBytes: number, log: Logger): Promise<ReplicaMetadata> {
  // Leftovers of an earlier attempt that crashed before writing volume.json.
  for (const f of await readdir(dir)) {
    if (/^layer-[0-9]{6}\.(img(\.[0-9]+)?|alloc)$/.test(f) || f === STATE_FILE || f === `${METADATA_FILE}.tmp`) await rm(join(dir, f), { force: true });
  }
  await Layer.create(dir, FIRST_LAYER, BLOCK_BYTES, sizeBytes);
  const state = await StateFile.open(dir, 0);
  await state.write({ revision: 0, clean: true });
  await state.close();
  await syncDir(dir);
  const meta: ReplicaMetadata = { formatVersion: FORMAT_VERSION, replicaId: randomUUID(), sizeBytes, sectorBytes: 512, blockBytes: BLOCK_BYTES, chain: [FIRST_LAYER], rebuilding: false, extras: {} };
  await writeMetadata(dir, meta);
  log.info('created replica store', { replicaId: meta.replicaId, sizeBytes });
  return meta;
}
