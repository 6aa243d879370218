import type { JsonPatchOp } from '../api/store/port.ts';

/** Is this a plain JSON object (not null, not an array)? */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 6901: a path segment with `~` and `/` escaped. */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** RFC 6901 pointer of a path. */
export function pointerOf(path: readonly string[]): string {
  return path.map((s) => `/${escapePointer(s)}`).join('');
}

/** The value at a path of a JSON document, or undefined when any step is missing or not an object. */
export function getIn(doc: unknown, path: readonly string[]): unknown {
  let cur = doc;
  for (const seg of path) {
    if (!isRecord(cur) || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/**
 * A working copy of an object that a mutator edits through a few safe verbs; every edit is also
 * recorded as a JSON Patch operation, so a mutator stays a pure `(object) => ops` function. The
 * verbs never throw: an edit below something that is not an object is skipped (validation reports
 * the bad shape instead).
 */
export class Draft {
  readonly doc: unknown;
  readonly ops: JsonPatchOp[] = [];

  constructor(doc: unknown) {
    this.doc = structuredClone(doc);
  }

  /** The value at a path of the working copy. */
  get(path: readonly string[]): unknown {
    return getIn(this.doc, path);
  }

  /** Makes every step of `path` an object (adding `{}` where absent or null); false if blocked. */
  ensureObject(path: readonly string[]): boolean {
    if (!isRecord(this.doc)) return false;
    let cur: Record<string, unknown> = this.doc;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] as string;
      const next = cur[seg];
      if (next === undefined || next === null) {
        cur[seg] = {};
        this.ops.push({ op: 'add', path: pointerOf(path.slice(0, i + 1)), value: {} });
      } else if (!isRecord(next)) return false;
      cur = cur[seg] as Record<string, unknown>;
    }
    return true;
  }

  /** Sets `path` to `value` when it is absent or null. */
  setDefault(path: readonly string[], value: unknown): void {
    const parent = path.slice(0, -1);
    const key = path[path.length - 1];
    if (key === undefined || !this.ensureObject(parent)) return;
    const obj = this.get(parent) as Record<string, unknown>;
    if (obj[key] !== undefined && obj[key] !== null) return;
    this.set(path, value);
  }

  /** Sets `path` to `value` (its parent must already be an object). */
  set(path: readonly string[], value: unknown): void {
    const key = path[path.length - 1];
    const obj = this.get(path.slice(0, -1));
    if (key === undefined || !isRecord(obj)) return;
    const had = Object.prototype.hasOwnProperty.call(obj, key);
    obj[key] = structuredClone(value);
    this.ops.push({ op: had ? 'replace' : 'add', path: pointerOf(path), value });
  }

  /** Removes `path` when present. */
  remove(path: readonly string[]): void {
    const key = path[path.length - 1];
    const obj = this.get(path.slice(0, -1));
    if (key === undefined || !isRecord(obj) || !Object.prototype.hasOwnProperty.call(obj, key)) return;
    delete obj[key];
    this.ops.push({ op: 'remove', path: pointerOf(path) });
  }
}
