import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as E from 'fp-ts/Either';
import { applyPatch, mergePatchBetween } from '../../../api/store/patch.ts';
import type { Patch } from '../../../api/store/port.ts';

describe('patches (RFC 6902 and RFC 7386)', () => {
  const doc = { a: { b: 1, c: [1, 2, 3] }, 'x/y': 'slash', 'm~n': 'tilde' };
  const ok: Array<[string, Patch, unknown]> = [
    ['add a key', { type: 'json', ops: [{ op: 'add', path: '/a/d', value: 4 }] }, { ...doc, a: { ...doc.a, d: 4 } }],
    ['insert into an array', { type: 'json', ops: [{ op: 'add', path: '/a/c/1', value: 9 }] }, { ...doc, a: { b: 1, c: [1, 9, 2, 3] } }],
    ['append with -', { type: 'json', ops: [{ op: 'add', path: '/a/c/-', value: 4 }] }, { ...doc, a: { b: 1, c: [1, 2, 3, 4] } }],
    ['remove', { type: 'json', ops: [{ op: 'remove', path: '/a/b' }] }, { ...doc, a: { c: [1, 2, 3] } }],
    ['replace escaped keys', { type: 'json', ops: [{ op: 'replace', path: '/x~1y', value: 's' }, { op: 'replace', path: '/m~0n', value: 't' }] }, { ...doc, 'x/y': 's', 'm~n': 't' }],
    ['move', { type: 'json', ops: [{ op: 'move', from: '/a/b', path: '/b' }] }, { ...doc, a: { c: [1, 2, 3] }, b: 1 }],
    ['copy', { type: 'json', ops: [{ op: 'copy', from: '/a/b', path: '/b' }] }, { ...doc, b: 1 }],
    ['test then replace', { type: 'json', ops: [{ op: 'test', path: '/a/b', value: 1 }, { op: 'replace', path: '/a/b', value: 2 }] }, { ...doc, a: { ...doc.a, b: 2 } }],
    ['merge: null deletes, objects merge', { type: 'merge', value: { a: { b: null, e: 5 }, 'x/y': null } }, { a: { c: [1, 2, 3], e: 5 }, 'm~n': 'tilde' }],
  ];
  for (const [name, patch, want] of ok) {
    it(name, () => {
      const before = structuredClone(doc);
      assert.deepEqual(applyPatch(doc, patch), E.right(want));
      assert.deepEqual(doc, before, 'the input is not changed');
    });
  }
  const bad: Array<[string, Patch, RegExp]> = [
    ['remove a missing key', { type: 'json', ops: [{ op: 'remove', path: '/zz' }] }, /operation 0 \(remove \/zz\): \/zz does not exist/],
    ['index past the end', { type: 'json', ops: [{ op: 'add', path: '/a/c/9', value: 1 }] }, /past the end/],
    ['failed test', { type: 'json', ops: [{ op: 'test', path: '/a/b', value: 2 }] }, /test failed/],
    ['pointer without slash', { type: 'json', ops: [{ op: 'add', path: 'a', value: 1 }] }, /must start with/],
  ];
  for (const [name, patch, why] of bad) {
    it(`refuses: ${name}`, () => {
      const r = applyPatch(doc, patch);
      assert.ok(E.isLeft(r));
      assert.match(r.left, why);
    });
  }
});

describe('mergePatchBetween', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['a key that is gone becomes null', { modes: { a: 'RW', b: 'RW' } }, { modes: { a: 'RW' } }],
    ['nested changes only', { x: { y: { z: 1, w: 2 } }, k: 1 }, { x: { y: { z: 3, w: 2 } }, k: 1 }],
    ['a map replaced by a scalar', { m: { a: 1 } }, { m: 'flat' }],
    ['new keys', {}, { a: { b: 1 } }],
    ['arrays replace whole', { l: [1, 2] }, { l: [1] }],
  ];
  for (const [name, before, after] of cases) {
    it(`${name}: applying the diff gives the target`, () => {
      const diff = mergePatchBetween(before, after) as Record<string, unknown>;
      assert.deepEqual(applyPatch(before, { type: 'merge', value: diff }), E.right(after));
    });
  }
  it('names the removed key as null', () => assert.deepEqual(mergePatchBetween({ m: { a: 1, b: 2 } }, { m: { a: 1 } }), { m: { b: null } }));
});
