import type { AdmissionOutcome } from '../api/store/port.ts';

/**
 * What a validation rule finds: a violation (the write is refused) or a warning (it passes, and
 * the client is told). Findings are values; the chain collects every one of them.
 */

/** The rule a finding comes from; also the `reason` label of the refusal metric (a closed set). */
export type RuleId =
  | 'schema'
  | 'unknown-kind'
  | 'unreadable'
  | 'volume-name'
  | 'volume-size'
  | 'volume-size-shrink'
  | 'volume-expansion'
  | 'volume-size-step'
  | 'volume-strict-local'
  | 'volume-locality-change'
  | 'volume-node-jump'
  | 'volume-immutable'
  | 'volume-deleting'
  | 'volume-redundancy'
  | 'tags'
  | 'node-name'
  | 'disk-name'
  | 'disk-path'
  | 'disk-reserved'
  | 'eviction'
  | 'disk-removal'
  | 'node-delete'
  | 'instance-immutable'
  | 'instance-volume'
  | 'setting'
  | 'internal';

/** A broken rule: refuses the write. The message starts with the field and names rule and value. */
export interface Violation {
  readonly _tag: 'Violation';
  readonly rule: RuleId;
  readonly path: string;
  readonly message: string;
  /** 403 for "not allowed in this state" (Forbidden), 400 for a request the chain cannot judge, 503 when the store could not be read; the default is 422 (Invalid). The refusal takes the first violation's code. */
  readonly code?: 400 | 403 | 500 | 503;
}

/** A soft concern: the write passes with an AdmissionReview warning. */
export interface Warning {
  readonly _tag: 'Warning';
  readonly rule: RuleId;
  readonly message: string;
}

/** What a check returns, zero or more of. */
export type Finding = Violation | Warning;

/** A violation of `rule` at `path`. */
export function violation(rule: RuleId, path: string, message: string, code?: 400 | 403 | 500 | 503): Violation {
  return code === undefined ? { _tag: 'Violation', rule, path, message } : { _tag: 'Violation', rule, path, message, code };
}

/** A warning from `rule`. */
export function warning(rule: RuleId, message: string): Warning {
  return { _tag: 'Warning', rule, message };
}

/** Is this finding a violation? */
export function isViolation(f: Finding): f is Violation {
  return f._tag === 'Violation';
}

/** One violation as a line: `spec.size: cannot shrink from 10Gi to 5Gi`. */
export function formatViolation(v: Violation): string {
  return v.path === '' ? v.message : `${v.path}: ${v.message}`;
}

/** The outcome of a set of findings: refused (every violation, in order, joined by "; ") or allowed. */
export function outcomeOf(findings: readonly Finding[], object: unknown): AdmissionOutcome & { readonly rules?: readonly RuleId[] } {
  const violations = findings.filter(isViolation);
  if (violations.length > 0) {
    const code = violations[0]?.code ?? 422;
    return { allowed: false, code, message: violations.map(formatViolation).join('; '), rules: [...new Set(violations.map((v) => v.rule))] };
  }
  const warnings = findings.filter((f): f is Warning => f._tag === 'Warning').map((w) => w.message);
  return { allowed: true, object, warnings };
}

/** Shows a value in a message, short and JSON-quoted (`"abc"`, `3`, `nothing`). */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  if (s === undefined) return String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
