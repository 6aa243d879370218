import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { readFile, rename, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, formatInputError, intRange } from '../../api/decode.ts';
import { syncDir } from './fs-io.ts';

/** The metadata file of a replica directory. */
export const METADATA_FILE = 'volume.json';
/** Format version written by this code. */
export const FORMAT_VERSION = 1;

/** Largest volume: 2^32 blocks of 4 KiB. */
export const MAX_VOLUME_BYTES = 16 * 2 ** 40;

/** Checks a requested volume size (at create, open and expand); null when it is fine. */
export function checkVolumeSize(bytes: number): string | null {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return 'must be a positive number of bytes';
  if (bytes % 512 !== 0) return 'must be a multiple of 512 bytes';
  if (bytes > MAX_VOLUME_BYTES) return 'must be at most 16Ti';
  return null;
}

const LayerName = new t.Type<string, string, unknown>(
  'a layer name (layer-NNNNNN)',
  (u): u is string => typeof u === 'string' && /^layer-[0-9]{6}$/.test(u),
  (u, c) => (typeof u === 'string' && /^layer-[0-9]{6}$/.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/**
 * volume.json: what rarely changes. The revision counter and the clean-shutdown mark live in the
 * state file (state.ts) because they change at every flush. Exact: unknown keys are an error.
 */
export const ReplicaMetadata = t.exact(
  t.type({
    formatVersion: t.literal(FORMAT_VERSION),
    replicaId: t.string,
    sizeBytes: intRange(1, MAX_VOLUME_BYTES),
    sectorBytes: t.literal(512),
    blockBytes: t.literal(4096),
    /** Layer names, oldest snapshot first, live head last; each is `<name>.img` + `<name>.alloc`. */
    chain: t.array(LayerName),
    rebuilding: t.boolean,
    extras: t.record(t.string, t.string),
  }),
);
/** Decoded volume.json. */
export type ReplicaMetadata = t.TypeOf<typeof ReplicaMetadata>;

/** Why a directory's metadata cannot be used. */
export interface MetadataCorrupt {
  readonly _tag: 'MetadataCorrupt';
  readonly path: string;
  readonly detail: string;
}

/** Reads and decodes volume.json; `null` when the file does not exist. */
export async function readMetadata(dir: string): Promise<E.Either<MetadataCorrupt, ReplicaMetadata | null>> {
  const path = join(dir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return E.right(null);
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return E.left({ _tag: 'MetadataCorrupt', path, detail: `not JSON (${(e as Error).message})` });
  }
  const keys = raw !== null && typeof raw === 'object' ? Object.keys(raw).filter((k) => !(k in ReplicaMetadata.type.props)) : [];
  if (keys.length > 0) return E.left({ _tag: 'MetadataCorrupt', path, detail: `unknown keys ${keys.join(', ')}` });
  const r = decode(ReplicaMetadata, raw);
  if (E.isLeft(r)) return E.left({ _tag: 'MetadataCorrupt', path, detail: formatInputError(r.left) });
  if (r.right.chain.length === 0) return E.left({ _tag: 'MetadataCorrupt', path, detail: 'chain: empty (the head layer is missing)' });
  return E.right(r.right);
}

/** Writes volume.json atomically and durably: temp file, fsync, rename, fsync of the directory. */
export async function writeMetadata(dir: string, meta: ReplicaMetadata): Promise<void> {
  const path = join(dir, METADATA_FILE);
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(meta, null, 2) + '\n', { mode: 0o600 });
  const fh = await open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dir);
}
