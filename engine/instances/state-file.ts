import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decode, formatInputError } from '../../api/decode.ts';

/** One supervised child as recorded on disk, so that a new agent can adopt it. */
export const ChildRecord = t.intersection([
  t.type({
    /** `replica/<Replica name>` or `engine/<Volume name>`. */
    key: t.string,
    pid: t.number,
    /** Field 22 of /proc/<pid>/stat at spawn: guards against pid reuse. */
    startTime: t.string,
    argv: t.array(t.string),
    ports: t.array(t.number),
  }),
  t.partial({
    /** The replica's data directory (removed when its Replica is deleted). */
    dataDir: t.string,
    /** The JSON line the child printed when it was ready. */
    ready: t.record(t.string, t.unknown),
    startedAt: t.string,
  }),
]);
/** One supervised child as recorded on disk. */
export type ChildRecord = t.TypeOf<typeof ChildRecord>;

const StateFile = t.type({ format: t.literal('shorthorn-agent-children/1'), children: t.array(ChildRecord) });

/** The state file's path under the agent's data root. */
export function stateFilePath(dataRoot: string): string {
  return join(dataRoot, 'children.json');
}

/** Loads the recorded children; a missing file is no children, a corrupt one is an error value. */
export async function loadChildRecords(dataRoot: string): Promise<E.Either<string, ChildRecord[]>> {
  let text: string;
  try {
    text = await fs.readFile(stateFilePath(dataRoot), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return E.right([]);
    return E.left(`cannot read ${stateFilePath(dataRoot)}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(`${stateFilePath(dataRoot)} is not JSON: ${(e as Error).message}`);
  }
  const r = decode(StateFile, json);
  if (E.isLeft(r)) return E.left(`${stateFilePath(dataRoot)}: ${formatInputError(r.left)}`);
  return E.right(r.right.children);
}

/** Writes the records atomically (temp file, fsync, rename). */
export async function saveChildRecords(dataRoot: string, children: readonly ChildRecord[]): Promise<void> {
  const path = stateFilePath(dataRoot);
  const tmp = `${path}.tmp`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify({ format: 'shorthorn-agent-children/1', children }, null, 1) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path);
}
