import * as E from 'fp-ts/Either';
import type { JsonPatchOp, Patch } from './port.ts';

/** RFC 6901 pointer → path segments. */
function pointer(path: string): E.Either<string, string[]> {
  if (path === '') return E.right([]);
  if (!path.startsWith('/')) return E.left(`JSON pointer "${path}" must start with "/"`);
  return E.right(path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getAt(doc: Json, segs: readonly string[]): E.Either<string, Json> {
  let cur = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) {
      const i = Number(s);
      if (!/^\d+$/.test(s) || i >= cur.length) return E.left(`path segment "${s}" is not an index of the array`);
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, s)) return E.left(`path segment "${s}" does not exist`);
      cur = cur[s];
    } else return E.left(`path segment "${s}" is below a value that is not a container`);
  }
  return E.right(cur);
}

function applyOp(doc: Json, op: JsonPatchOp): E.Either<string, Json> {
  const p = pointer(op.path);
  if (E.isLeft(p)) return p;
  const segs = p.right;
  if (op.op === 'test') {
    const v = getAt(doc, segs);
    if (E.isLeft(v)) return v;
    return JSON.stringify(v.right) === JSON.stringify(op.value) ? E.right(doc) : E.left(`test failed at ${op.path}`);
  }
  if (op.op === 'move' || op.op === 'copy') {
    const f = pointer(op.from);
    if (E.isLeft(f)) return f;
    const v = getAt(doc, f.right);
    if (E.isLeft(v)) return v;
    const value = structuredClone(v.right);
    const removed = op.op === 'move' ? applyOp(doc, { op: 'remove', path: op.from }) : E.right(doc);
    if (E.isLeft(removed)) return removed;
    return applyOp(removed.right, { op: 'add', path: op.path, value });
  }
  const value = 'value' in op ? op.value : undefined;
  if (segs.length === 0) {
    if (op.op === 'remove') return E.left('cannot remove the whole document');
    return E.right(structuredClone(value));
  }
  const parentR = getAt(doc, segs.slice(0, -1));
  if (E.isLeft(parentR)) return parentR;
  const parent = parentR.right;
  const last = segs[segs.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(last === '-' || /^\d+$/.test(last))) return E.left(`"${last}" is not an array index`);
    if (op.op === 'add') {
      if (i > parent.length) return E.left(`index ${i} is past the end of the array`);
      parent.splice(i, 0, structuredClone(value));
    } else {
      if (i >= parent.length) return E.left(`index ${i} is past the end of the array`);
      if (op.op === 'remove') parent.splice(i, 1);
      else parent[i] = structuredClone(value);
    }
    return E.right(doc);
  }
  if (!isObject(parent)) return E.left(`the parent of ${op.path} is not an object or array`);
  const has = Object.prototype.hasOwnProperty.call(parent, last);
  if (op.op !== 'add' && !has) return E.left(`${op.path} does not exist`);
  if (op.op === 'remove') delete parent[last];
  else parent[last] = structuredClone(value);
  return E.right(doc);
}

/** RFC 7386: null deletes, objects merge recursively, everything else replaces. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Applies a patch to a copy of the document; the document itself is never changed. */
export function applyPatch(doc: Json, patch: Patch): E.Either<string, Json> {
  if (patch.type === 'merge') return E.right(mergePatch(doc, patch.value));
  let cur: Json = structuredClone(doc);
  for (const [i, op] of patch.ops.entries()) {
    const r = applyOp(cur, op);
    if (E.isLeft(r)) return E.left(`patch operation ${i} (${op.op} ${op.path}): ${r.left}`);
    cur = r.right;
  }
  return E.right(cur);
}

/**
 * The RFC 7386 merge patch that turns `before` into `after`: changed keys, and null for keys that
 * are gone. Sending a whole new map as a merge patch would keep the keys it no longer has.
 */
export function mergePatchBetween(before: unknown, after: unknown): unknown {
  if (!isObject(before) || !isObject(after)) return structuredClone(after);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(before)) if (!Object.prototype.hasOwnProperty.call(after, k)) out[k] = null;
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(before[k]) === JSON.stringify(v)) continue;
    out[k] = Object.prototype.hasOwnProperty.call(before, k) ? mergePatchBetween(before[k], v) : structuredClone(v);
  }
  return out;
}
