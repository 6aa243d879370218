import * as E from 'fp-ts/Either';
import { isKind, KIND_NAMES } from '../api/kinds.ts';
import type { Logger } from '../api/log.ts';
import { applyPatch } from '../api/store/patch.ts';
import type { AdmissionOutcome } from '../api/store/port.ts';
import type { CheckContext, Facts } from './context.ts';
import { readFacts, type StoreReader } from './facts.ts';
import { outcomeOf, show, violation, type Finding, type RuleId } from './findings.ts';
import { jsonDepth, MAX_JSON_DEPTH } from './json-depth.ts';
import { RULES, type KindRules } from './rules.ts';
import { decodeObject } from './validate/schema.ts';

/** An admission request as the chain takes it: the store's, or an AdmissionReview's (any kind). */
export interface ChainRequest {
  readonly operation: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly subResource?: string;
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun: boolean;
}

/** Which part of the chain to run: Kubernetes calls /mutate and /validate apart, the store both. */
export type Phase = 'mutate' | 'validate' | 'both';

/** The outcome, and the rules that refused (the metric's reasons). */
export interface ChainResult {
  readonly outcome: AdmissionOutcome;
  readonly rules: readonly RuleId[];
}

/** What the chain needs: the store to read Settings and related objects, and a logger. */
export interface ChainDeps {
  readonly store: StoreReader;
  readonly log?: Logger;
}

function refuse(rule: RuleId, message: string, code: 400 | 500 | 503): ChainResult {
  const out = outcomeOf([violation(rule, '', message, code)], undefined);
  return { outcome: out, rules: [rule] };
}

function allow(object: unknown): ChainResult {
  return { outcome: { allowed: true, object, warnings: [] }, rules: [] };
}

/** Runs the mutators in order, each on the result of the one before. */
export function mutateObject(rules: KindRules, req: ChainRequest, facts: Facts, log?: Logger): unknown {
  let object = req.object;
  for (const m of rules.mutators) {
    const ops = m({ operation: req.operation as 'CREATE', object, oldObject: req.oldObject, facts });
    if (ops.length === 0) continue;
    const r = applyPatch(object, { type: 'json', ops });
    if (E.isLeft(r)) log?.error('mutator produced a patch that does not apply', { kind: req.kind, name: req.name, error: r.left });
    else object = r.right;
  }
  return object;
}

/** Runs the checks: the codec first (every problem), then every rule on the typed object. */
export function validateObject(rules: KindRules, req: ChainRequest, object: unknown, facts: Facts): Finding[] {
  if (req.operation === 'DELETE') {
    const old = decodeObject(rules.codec, req.oldObject);
    if (E.isLeft(old)) return [];
    return rules.deleteChecks.flatMap((c) => c({ name: req.name, old: old.right as never, facts }));
  }
  const decoded = decodeObject(rules.codec, object);
  if (E.isLeft(decoded)) return [...decoded.left];
  const old = req.operation === 'UPDATE' ? decodeObject(rules.codec, req.oldObject) : undefined;
  const ctx: CheckContext<unknown> = {
    operation: req.operation as 'CREATE',
    name: req.name,
    object: decoded.right,
    old: old !== undefined && E.isRight(old) ? old.right : undefined,
    facts,
  };
  return rules.checks.flatMap((c) => c(ctx as CheckContext<never>));
}

/**
 * The admission chain: mutate (defaults) then validate, as an API server runs its webhooks. Never
 * throws: a bad request, an unknown kind or a store failure is a refusal with a message.
 */
export async function runChain(deps: ChainDeps, req: ChainRequest, phase: Phase): Promise<ChainResult> {
  try {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE' && req.operation !== 'DELETE') return allow(req.object);
    if (!isKind(req.kind)) return refuse('unknown-kind', `kind: expected one of ${KIND_NAMES.join(', ')}, got ${show(req.kind)}`, 400);
    // Status writes carry no spec change: the spec rules do not apply (a Volume being deleted
    // still takes status updates, which is how its deletion is reported).
    if (req.subResource !== undefined && req.subResource !== '') return allow(req.object);
    // NOTE: the rules copy objects (structuredClone, JSON); a value nested past any real object's
    // depth is refused here, before anything recursive touches it.
    if (jsonDepth(req.object) > MAX_JSON_DEPTH || jsonDepth(req.oldObject) > MAX_JSON_DEPTH) return refuse('schema', `object: nests deeper than ${MAX_JSON_DEPTH} levels`, 400);
    const rules = RULES[req.kind];
    const needs = rules.needs(req);
    const facts = await readFacts(deps.store, phase === 'mutate' ? { ...needs, nodes: false, replicas: false, volumeName: undefined } : needs);
    if (E.isLeft(facts)) return { outcome: outcomeOf([facts.left], undefined), rules: [facts.left.rule] };
    const object = phase === 'validate' || req.operation === 'DELETE' ? req.object : mutateObject(rules, req, facts.right, deps.log);
    if (phase === 'mutate') return allow(object);
    const findings = validateObject(rules, req, object, facts.right);
    const outcome = outcomeOf(findings, object);
    if (!outcome.allowed) deps.log?.info('admission refused', { kind: req.kind, name: req.name, operation: req.operation, message: outcome.message });
    return { outcome: outcome.allowed ? { allowed: true, object, warnings: outcome.warnings } : { allowed: false, code: outcome.code, message: outcome.message }, rules: outcome.rules ?? [] };
  } catch (e) {
    deps.log?.error('admission chain failed', { kind: req.kind, name: req.name, error: e });
    return refuse('internal', `admission failed: ${e instanceof Error ? e.message : String(e)}`, 500);
  }
}
