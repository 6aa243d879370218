import * as E from 'fp-ts/Either';

/**
 * Kubernetes label selectors (k8s.io/apimachinery/pkg/labels): equality (`a=b`, `a==b`, `a!=b`),
 * set (`a in (x,y)`, `a notin (x)`) and existence (`a`, `!a`), joined by commas; all must match.
 */
export type Requirement =
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'notexists'; readonly key: string };

export type Selector = readonly Requirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string): E.Either<string, string> {
  return KEY.test(key) && key.length <= 316 ? E.right(key) : E.left(`invalid label key "${key}"`);
}

function parseRequirement(part: string): E.Either<string, Requirement> {
  let m = /^!\s*(\S+)$/.exec(part);
  if (m) return E.map((key: string): Requirement => ({ op: 'notexists', key }))(checkKey(m[1] as string));
  m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(part);
  if (m) {
    const [, key = '', op, value = ''] = m;
    if (!VALUE.test(value)) return E.left(`invalid label value "${value}"`);
    return E.map((k: string): Requirement => ({ op: op === '!=' ? 'notin' : 'in', key: k, values: [value] }))(checkKey(key));
  }
  m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
  if (m) {
    const [, key = '', op, list = ''] = m;
    const values = list.split(',').map((v) => v.trim());
    const bad = values.find((v) => !VALUE.test(v));
    if (bad !== undefined) return E.left(`invalid label value "${bad}"`);
    return E.map((k: string): Requirement => ({ op: op as 'in' | 'notin', key: k, values }))(checkKey(key));
  }
  if (/^\S+$/.test(part)) return E.map((key: string): Requirement => ({ op: 'exists', key }))(checkKey(part));
  return E.left(`cannot parse label selector term "${part}"`);
}

/** Parses a selector string; an empty string selects everything. */
export function parseSelector(s: string): E.Either<string, Selector> {
  const out: Requirement[] = [];
  for (const part of splitTopLevel(s)) {
    const r = parseRequirement(part);
    if (E.isLeft(r)) return r;
    out.push(r.right);
  }
  return E.right(out);
}

/** Does a label set satisfy every requirement? */
export function matchesSelector(sel: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key] as string);
      case 'notin':
        return !has || !r.values.includes(l[r.key] as string);
    }
  });
}
