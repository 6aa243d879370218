import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decode, formatInputError } from '../api/decode.ts';

/** The identity file at the root of every disk Shorthorn uses (Longhorn's longhorn-disk.cfg). */
export const IDENTITY_FILE = 'shorthorn-disk.cfg';

/** What the identity file holds. */
const IdentityFile = t.type({ diskUUID: t.string });

/**
 * The outcome of checking a disk's identity. `Changed` is a replaced or remounted disk (or an
 * identity file gone while replicas live there): it is reported, never adopted.
 */
export type DiskIdentity =
  | { readonly _tag: 'Ok'; readonly diskUUID: string; readonly created: boolean }
  | { readonly _tag: 'Changed'; readonly expected: string; readonly found: string | undefined; readonly message: string }
  | { readonly _tag: 'Unreadable'; readonly message: string };

/** Parses the identity file's text. */
export function parseIdentity(text: string): E.Either<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(`${IDENTITY_FILE} is not JSON: ${(e as Error).message}`);
  }
  const r = decode(IdentityFile, json);
  if (E.isLeft(r)) return E.left(`${IDENTITY_FILE}: ${formatInputError(r.left)}`);
  if (!/^[0-9a-f-]{36}$/.test(r.right.diskUUID)) return E.left(`${IDENTITY_FILE}: diskUUID is not a UUID: ${JSON.stringify(r.right.diskUUID)}`);
  return E.right(r.right.diskUUID);
}

async function writeIdentity(path: string, uuid: string): Promise<void> {
  const tmp = join(path, `${IDENTITY_FILE}.tmp`);
  const fh = await fs.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(JSON.stringify({ diskUUID: uuid }) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, join(path, IDENTITY_FILE));
}

/**
 * Checks (and on first use creates) the identity of the disk mounted at `path`.
 * `expected` is the UUID reported before (Node.status); `hasReplicas` says whether replicas live there.
 * A missing file with no expectation, or with an expectation and no replicas, is (re)written with
 * the expected UUID or a new one; anything else that differs is `Changed`.
 */
export async function checkDiskIdentity(path: string, expected: string | undefined, hasReplicas: boolean): Promise<DiskIdentity> {
  try {
    const st = await fs.stat(path);
    if (!st.isDirectory()) return { _tag: 'Unreadable', message: `${path} is not a directory` };
  } catch (e) {
    return { _tag: 'Unreadable', message: `${path}: ${(e as Error).message}` };
  }
  let text: string | undefined;
  try {
    text = await fs.readFile(join(path, IDENTITY_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { _tag: 'Unreadable', message: `${path}: ${(e as Error).message}` };
  }
  if (text === undefined) {
    if (expected !== undefined && expected !== '' && hasReplicas) {
      return { _tag: 'Changed', expected, found: undefined, message: `${IDENTITY_FILE} vanished from ${path} while replicas live there (expected disk ${expected}): a different filesystem is mounted?` };
    }
    const uuid = expected !== undefined && expected !== '' ? expected : randomUUID();
    try {
      await writeIdentity(path, uuid);
    } catch (e) {
      return { _tag: 'Unreadable', message: `cannot write ${IDENTITY_FILE} in ${path}: ${(e as Error).message}` };
    }
    return { _tag: 'Ok', diskUUID: uuid, created: true };
  }
  const parsed = parseIdentity(text);
  if (E.isLeft(parsed)) return { _tag: 'Unreadable', message: `${path}: ${parsed.left}` };
  if (expected !== undefined && expected !== '' && parsed.right !== expected) {
    return { _tag: 'Changed', expected, found: parsed.right, message: `disk at ${path} has UUID ${parsed.right}, expected ${expected}: the disk was replaced or remounted` };
  }
  return { _tag: 'Ok', diskUUID: parsed.right, created: false };
}
