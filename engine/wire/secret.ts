import { readFile } from 'node:fs/promises';

/** Shortest secret accepted: a shorter one is guessable. */
export const MIN_SECRET_BYTES = 16;

/**
 * Reads a volume's shared secret from a file (as `--secret-file` names it): the file's bytes with
 * trailing whitespace (a final newline) removed. Throws an Error with a one-line message when the
 * file is missing, empty or too short.
 */
export async function readSecretFile(path: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read secret file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d || raw[end - 1] === 0x20 || raw[end - 1] === 0x09)) end--;
  if (end < MIN_SECRET_BYTES) throw new Error(`secret file ${path} holds ${end} bytes; at least ${MIN_SECRET_BYTES} are needed`);
  return raw.subarray(0, end);
}
