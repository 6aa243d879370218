import * as E from 'fp-ts/Either';
import * as t from 'io-ts';

/**
 * Kubernetes resource quantities (`10Gi`, `500M`, `1.5Gi`, `12e6`, plain bytes) parsed with exact
 * integer arithmetic: the digits become a bigint numerator over a power-of-ten denominator, so
 * `1.5Gi` is exactly 1610612736 and nothing is ever rounded through a float.
 */

/** Binary (IEC) suffixes: powers of 1024. */
const BINARY: Readonly<Record<string, bigint>> = {
  Ki: 1024n,
  Mi: 1024n ** 2n,
  Gi: 1024n ** 3n,
  Ti: 1024n ** 4n,
  Pi: 1024n ** 5n,
  Ei: 1024n ** 6n,
};

/** Decimal (SI) suffixes as a power-of-ten exponent; `m`, `u` and `n` are fractions. */
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** An exact rational value: numerator / 10^scale. */
interface Exact {
  readonly numerator: bigint;
  readonly scale: number;
}

/** Longer than any real quantity: refused before the digits reach BigInt (a slow-request guard). */
const MAX_QUANTITY_LENGTH = 64;

function parseExact(input: string): E.Either<string, Exact> {
  if (input.length > MAX_QUANTITY_LENGTH) return E.left(`a quantity of ${input.length} characters is not a size (at most ${MAX_QUANTITY_LENGTH})`);
  const m = QUANTITY_RE.exec(input.trim() === input ? input : '\0');
  if (m === null) return E.left(`"${input}" is not a quantity (expected digits with an optional suffix such as Ki, Mi, Gi, Ti, k, M, G, T)`);
  const [, sign = '', digits = '', suffix, exponent] = m;
  const [whole = '', frac = ''] = digits.split('.');
  let numerator = BigInt((whole === '' ? '0' : whole) + frac);
  let scale = frac.length;
  if (sign === '-') numerator = -numerator;
  if (suffix !== undefined && suffix in BINARY) {
    numerator *= BINARY[suffix] as bigint;
  } else {
    const exp = exponent !== undefined ? Number(exponent) : DECIMAL[suffix ?? ''] ?? 0;
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 40) return E.left(`"${input}" has an exponent out of range`);
    if (exp >= 0) numerator *= 10n ** BigInt(exp);
    else scale -= exp;
  }
  return E.right({ numerator, scale });
}

/**
 * Parses a quantity that must be a whole, non-negative number of bytes (a size). `1.5Gi` is fine,
 * `0.5` is not (half a byte), `-1` is not, nor is anything beyond Number.MAX_SAFE_INTEGER.
 */
export function parseBytes(input: string): E.Either<string, number> {
  const r = parseExact(input);
  if (E.isLeft(r)) return r;
  const { numerator, scale } = r.right;
  const denominator = 10n ** BigInt(scale);
  if (numerator < 0n) return E.left(`"${input}" is negative; a size must be 0 or more bytes`);
  if (numerator % denominator !== 0n) return E.left(`"${input}" is not a whole number of bytes`);
  const bytes = numerator / denominator;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return E.left(`"${input}" is too large (more than 2^53-1 bytes)`);
  return E.right(Number(bytes));
}

const BINARY_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/** Canonical quantity for a byte count: the largest binary suffix that divides it exactly (`10Gi`), else the bytes. */
export function formatBytes(bytes: number): string {
  for (const [suffix, unit] of BINARY_UNITS) {
    if (bytes !== 0 && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/** A short human figure for messages and tables (`2.1Gi`), rounded down to one decimal. */
export function humanBytes(bytes: number): string {
  for (const [suffix, unit] of BINARY_UNITS) {
    if (Math.abs(bytes) >= unit) {
      const tenths = Math.floor((bytes * 10) / unit) / 10;
      return `${tenths}${suffix}`;
    }
  }
  return `${bytes}B`;
}

/** io-ts codec: a string holding a size quantity (kept as written; use `parseBytes` for the value). */
export const Quantity = new t.Type<string, string, unknown>(
  'a size such as 10Gi, 500M or a byte count',
  (u): u is string => typeof u === 'string' && E.isRight(parseBytes(u)),
  (u, c) => (typeof u === 'string' && E.isRight(parseBytes(u)) ? t.success(u) : t.failure(u, c)),
  t.identity,
);
export type Quantity = t.TypeOf<typeof Quantity>;

/** The byte value of a Quantity that has already been decoded (throws only on a broken invariant). */
export function quantityBytes(q: Quantity): number {
  const r = parseBytes(q);
  if (E.isLeft(r)) throw new Error(`invariant: undecoded quantity ${q}: ${r.left}`);
  return r.right;
}
