import * as E from 'fp-ts/Either';

/**
 * The JSON of an extender request body, parsed as body-parser's strict `json()` parses it (same
 * values, same error messages), with one shortcut for the part that dominates every call: the
 * top-level `NodeNames` array of a nodeCacheCapable request, all the cluster's node names.
 *
 * Why: V8's JSON.parse internalizes every string value of up to 10 characters, a lookup in the
 * process-wide string table per name. In the placement process that table is large (every replica
 * name is a property key of some Volume's status), so for 5,000 short node names the lookups, not
 * the parsing, took 2 ms per call. Cut out as substrings, the names are plain strings.
 *
 * The shortcut applies only where it provably gives what JSON.parse gives; anything else goes
 * through JSON.parse whole:
 *  - the first `"NodeNames":[` of the text sits at depth 1 of the root object, outside any string
 *    (a scan of the text before it: kube-scheduler writes the Pod first, a few KiB);
 *  - the array is compact (no whitespace) and its strings hold no backslash or control character
 *    (so each string's value is its text);
 *  - the text after the array holds no backslash and no other `"NodeNames"` (no later key, escaped
 *    or not, can override it);
 *  - the rest, with `[]` in place of the array, is valid JSON (JSON.parse checks that part).
 */

/** A body that is not JSON: the message is JSON.parse's, as body-parser reports it. */
export interface JsonBodyError {
  readonly _tag: 'JsonBodyError';
  readonly message: string;
}

const KEY = '"NodeNames":[';
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COMMA = 0x2c; // ,
const CLOSE_ARRAY = 0x5d; // ]
/** Backslash or a control character: a string whose value differs from its text, or no JSON at all. */
const NOT_PLAIN = /[\\\u0000-\u001f]/;

/** Is offset `at` of `text` at depth 1 (directly in the root object or array) and outside any string? */
function isTopLevel(text: string, at: number): boolean {
  let depth = 0;
  for (let i = 0; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: an escape covers the next character (a \uXXXX's hex digits hold no quote).
      for (i++; i < at; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      if (i >= at) return false;
    } else if (c === 0x7b || c === 0x5b) depth++; // { [
    else if (c === 0x7d || c === CLOSE_ARRAY) depth--; // } ]
  }
  return depth === 1;
}

/**
 * Offsets of the names' closing quotes, reused from call to call.
 * NOTE: module state, safe because plainNames runs synchronously from start to end on one thread.
 */
let closes = new Int32Array(1024);

/**
 * The strings of the compact array starting at `open` (its '['), and the offset after its ']';
 * undefined if it is not one. Two passes: the structure first (no string is made for a body that
 * then goes through JSON.parse), then the names into an array of the right size (growing one by
 * push copies it a dozen times for 5,000 names).
 */
function plainNames(text: string, open: number): { names: string[]; end: number } | undefined {
  let count = 0;
  let end = open + 2;
  if (text.charCodeAt(open + 1) !== CLOSE_ARRAY) {
    for (let i = open + 1; ; ) {
      if (text.charCodeAt(i) !== QUOTE) return undefined;
      const close = text.indexOf('"', i + 1);
      if (close < 0) return undefined;
      if (count === closes.length) {
        const grown = new Int32Array(count * 2);
        grown.set(closes);
        closes = grown;
      }
      closes[count++] = close;
      const next = text.charCodeAt(close + 1);
      if (next === CLOSE_ARRAY) {
        end = close + 2;
        break;
      }
      if (next !== COMMA) return undefined;
      i = close + 2;
    }
  }
  // One check over the whole array instead of one per name.
  if (NOT_PLAIN.test(text.slice(open, end))) return undefined;
  const names = new Array<string>(count);
  // Each name starts after its opening quote: 2 past '[', then 3 past the previous closing quote ('","').
  let from = open + 2;
  for (let k = 0; k < count; k++) {
    const close = closes[k] as number;
    names[k] = text.slice(from, close);
    from = close + 3;
  }
  return { names, end };
}

/**
 * The JSON text of a NodeNames list the shortcut cut out, kept on the list itself (a non-enumerable
 * symbol: invisible to JSON.stringify, assert and io-ts). Compact, and its strings hold nothing
 * JSON.stringify escapes, so the text is exactly JSON.stringify(list). The filter answer, when
 * every node passes, sends the list back as it came (see nodeNamesJson).
 * NOTE: not a WeakMap: V8's young-generation collector keeps ephemeron values alive, so each
 * request's 5,000 names and body text survived into the old generation. Nothing changes the list
 * after parsing (it is read-only downstream), so the text stays true.
 */
const LIST_TEXT = Symbol('NodeNames JSON text');

/** JSON.stringify(names), taken from the request's own text when `names` is a list the shortcut cut out. */
export function nodeNamesJson(names: readonly string[]): string {
  return (names as { [LIST_TEXT]?: string })[LIST_TEXT] ?? JSON.stringify(names);
}

/** The shortcut alone: the parsed body with NodeNames cut out as substrings, or undefined when it does not apply. */
export function parseWithNodeNames(text: string): unknown {
  const at = text.indexOf(KEY);
  if (at < 0) return undefined;
  const open = at + KEY.length - 1;
  const arr = plainNames(text, open);
  if (arr === undefined) return undefined;
  const after = text.slice(arr.end);
  if (after.includes('\\') || after.includes('"NodeNames"')) return undefined;
  if (!isTopLevel(text, at)) return undefined;
  let rest: unknown;
  try {
    rest = JSON.parse(`${text.slice(0, open)}[]${after}`);
  } catch {
    return undefined;
  }
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return undefined;
  (rest as { NodeNames: string[] }).NodeNames = arr.names;
  Object.defineProperty(arr.names, LIST_TEXT, { value: text.slice(open, arr.end) });
  return rest;
}

/** The UTF-8 byte order mark, as a decoded character. */
const BOM = '\ufeff';

/**
 * A UTF-8 body's text as body-parser decodes it (iconv-lite over Node's StringDecoder): invalid
 * sequences become U+FFFD, and a leading byte order mark is dropped. Decoded in one piece, it is
 * one flat string, not a rope of chunks that the first search would copy again.
 */
export function utf8BodyText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** JSON's insignificant whitespace, as body-parser's strict check reads it. */
const FIRST_NON_WHITESPACE = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;

/** body-parser's message for a body whose first character is not '{' or '[' (strict mode). */
function strictViolation(text: string, first: string | undefined): string {
  // As body-parser does, undefined (an all-whitespace body) included: indexOf('undefined').
  const index = text.indexOf(String(first));
  const partial = index === -1 ? '' : text.substring(0, index) + '#'.repeat(text.length - index);
  try {
    JSON.parse(partial);
    return 'strict violation';
  } catch (e) {
    return (e as Error).message.replace(/#+/g, (p) => text.substring(index, index + p.length));
  }
}

/** Parses a request body as strict JSON (an object or array; empty is `{}`), as body-parser's json() does. */
export function parseJsonBody(text: string): E.Either<JsonBodyError, unknown> {
  if (text.length === 0) return E.right({});
  if (text[0] !== '{' && text[0] !== '[') {
    const first = FIRST_NON_WHITESPACE.exec(text)?.[1] || undefined;
    if (first !== '{' && first !== '[') return E.left({ _tag: 'JsonBodyError', message: strictViolation(text, first) });
  }
  const fast = parseWithNodeNames(text);
  if (fast !== undefined) return E.right(fast);
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (e) {
    return E.left({ _tag: 'JsonBodyError', message: (e as Error).message });
  }
}
