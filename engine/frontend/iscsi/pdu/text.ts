import * as E from 'fp-ts/Either';

/**
 * Text key=value lists (RFC 7143 §6.1): UTF-8 `key=value` pairs, each ended by a NUL byte, used by
 * Login and Text PDUs.
 */

/** One key and its value, in arrival order. */
export type TextPair = readonly [key: string, value: string];

/** Key names: 1–63 characters of letters, digits, '.', '-', '+', '@', '_' (RFC 7143 §6.1). */
const KEY = /^[A-Za-z0-9.\-+@_]{1,63}$/;
/** The longest value we accept (RFC 7143 §6.1: 8192 for CHAP binary values; 255 for most). */
const MAX_VALUE = 8192;

/** Decodes a NUL-separated key=value list; answers a message naming the first bad pair. */
export function decodeTextPairs(data: Buffer): E.Either<string, TextPair[]> {
  const out: TextPair[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0, start);
    if (end < 0) end = data.length;
    if (end > start) {
      const item = data.toString('utf8', start, end);
      const eq = item.indexOf('=');
      if (eq < 0) return E.left(`text item "${item.slice(0, 64)}" has no "="`);
      const key = item.slice(0, eq);
      const value = item.slice(eq + 1);
      if (!KEY.test(key)) return E.left(`text key "${key.slice(0, 64)}" is not a valid key name`);
      if (value.length > MAX_VALUE) return E.left(`value of ${key} is longer than ${MAX_VALUE} bytes`);
      out.push([key, value]);
    }
    start = end + 1;
  }
  return E.right(out);
}

/** Encodes pairs as `key=value\0…`. */
export function encodeTextPairs(pairs: readonly TextPair[]): Buffer {
  return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
}
