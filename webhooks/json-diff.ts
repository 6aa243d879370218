import type { JsonPatchOp } from '../api/store/port.ts';
import { escapePointer, isRecord } from './draft.ts';

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The RFC 6902 JSON Patch that turns `before` into `after`: objects are compared key by key (remove,
 * add, recurse), anything else that differs (arrays, scalars) is replaced whole. This is the patch
 * /mutate answers, computed from the object before and after the mutators ran.
 */
export function diffJson(before: unknown, after: unknown, path = ''): JsonPatchOp[] {
  if (same(before, after)) return [];
  if (!isRecord(before) || !isRecord(after)) return [{ op: 'replace', path, value: after }];
  const ops: JsonPatchOp[] = [];
  for (const key of Object.keys(before)) {
    if (!Object.prototype.hasOwnProperty.call(after, key)) ops.push({ op: 'remove', path: `${path}/${escapePointer(key)}` });
  }
  for (const [key, value] of Object.entries(after)) {
    const at = `${path}/${escapePointer(key)}`;
    if (!Object.prototype.hasOwnProperty.call(before, key)) ops.push({ op: 'add', path: at, value });
    else ops.push(...diffJson(before[key], value, at));
  }
  return ops;
}
