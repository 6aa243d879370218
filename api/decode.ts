import * as E from 'fp-ts/Either';
import * as t from 'io-ts';

/** One thing wrong with an input: where (a dotted path) and which rule, worded for users. */
export interface InputProblem {
  readonly path: string;
  readonly message: string;
}

/** A decoding failure listing every problem found. */
export interface InputError {
  readonly _tag: 'InputError';
  readonly problems: ReadonlyArray<InputProblem>;
}

/** Builds an InputError from one path and message. */
export function inputError(path: string, message: string): InputError {
  return { _tag: 'InputError', problems: [{ path, message }] };
}

/** The problems as one line each: `spec.numberOfReplicas: expected an integer from 1 to 20, got 0`. */
export function formatInputError(e: InputError): string {
  return e.problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  if (s === undefined) return String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The path of an io-ts error and the codec whose rule failed there (a union reports itself, not a branch). */
function locate(context: t.Context): { path: string; rule: t.Decoder<unknown, unknown> } {
  const keys: string[] = [];
  let rule: t.Decoder<unknown, unknown> = context[0]?.type ?? t.unknown;
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]?.type;
    const entry = context[i];
    if (entry === undefined) break;
    if (parent instanceof t.UnionType) break;
    // Intersection members and refinements repeat the same path with a numbered or empty key.
    if (parent instanceof t.IntersectionType || entry.key === '') {
      rule = entry.type;
      continue;
    }
    keys.push(entry.key);
    rule = entry.type;
  }
  return { path: keys.join('.'), rule };
}

/**
 * The rule a codec stands for, in words: structural codecs (objects, lists, maps) are named by
 * what they are, not by their whole shape, which would bury the message.
 */
function ruleName(rule: t.Decoder<unknown, unknown>): string {
  if (rule instanceof t.InterfaceType || rule instanceof t.PartialType || rule instanceof t.IntersectionType || rule instanceof t.ExactType) return 'an object';
  if (rule instanceof t.DictionaryType) return 'a map of names to values';
  if (rule instanceof t.ArrayType) return rule.type instanceof t.StringType ? 'a list of strings' : 'a list';
  return rule.name;
}

/** The missing or mistyped values of an io-ts decode, as user-facing problems (one per path). */
export function describeErrors(errors: t.Errors): InputError {
  const seen = new Map<string, InputProblem>();
  for (const err of errors) {
    const { path, rule } = locate(err.context);
    if (seen.has(path)) continue;
    const name = ruleName(rule);
    const message = err.message ?? (err.value === undefined ? (name === 'an object' ? 'required' : `required (${name})`) : `expected ${name}, got ${show(err.value)}`);
    seen.set(path, { path, message });
  }
  return { _tag: 'InputError', problems: [...seen.values()] };
}

/** Decodes an external input with a codec; the one place where `unknown` becomes a type. */
export function decode<A, O>(codec: t.Type<A, O, unknown>, input: unknown): E.Either<InputError, A> {
  const r = codec.decode(input);
  return E.isLeft(r) ? E.left(describeErrors(r.left)) : E.right(r.right);
}

/** An integer in [min, max], named for its rule so errors read `expected an integer from 1 to 20`. */
export function intRange(min: number, max: number): t.Type<number, number, unknown> {
  const name = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c)),
    t.identity,
  );
}

/** One of a closed set of strings, named `one of a, b, c`. */
export function oneOf<const L extends readonly [string, ...string[]]>(values: L): t.Type<L[number], L[number], unknown> {
  const set = new Set<string>(values);
  return new t.Type<L[number], L[number], unknown>(
    `one of ${values.join(', ')}`,
    (u): u is L[number] => typeof u === 'string' && set.has(u),
    (u, c) => (typeof u === 'string' && set.has(u) ? t.success(u as L[number]) : t.failure(u, c)),
    t.identity,
  );
}

/** A string matching a pattern, named after the rule it stands for. */
export function patterned(rule: string, re: RegExp, maxLength = Infinity): t.Type<string, string, unknown> {
  const ok = (u: unknown): u is string => typeof u === 'string' && u.length <= maxLength && re.test(u);
  return new t.Type<string, string, unknown>(rule, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
}

/** A DNS-1123 label (Kubernetes object names of our kinds): lower-case alphanumerics and '-', at most 63. */
export const Dns1123Label = patterned(
  'a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)',
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  63,
);

/** A DNS-1123 subdomain (Kubernetes metadata.name): labels joined by '.', at most 253. */
export const Dns1123Subdomain = patterned(
  'a DNS-1123 subdomain (lower-case letters, digits, "-" and ".", at most 253 characters)',
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  253,
);

/** A non-empty string. */
export const NonEmptyString = patterned('a non-empty string', /./s);

/** An RFC 3339 timestamp string as Kubernetes writes them. */
export const Timestamp = patterned('an RFC 3339 timestamp', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

/** A string holding a whole number of bytes (`"1073741824"`): how status figures are written. */
export const ByteCount = patterned('a whole number of bytes as a string', /^(0|[1-9]\d{0,15})$/);
