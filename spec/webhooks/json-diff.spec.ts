import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import { applyPatch } from '../../api/store/patch.ts';
import { diffJson } from '../../webhooks/json-diff.ts';

const cases: Array<{ name: string; before: unknown; after: unknown; ops: unknown[] }> = [
  { name: 'nothing changed', before: { a: 1 }, after: { a: 1 }, ops: [] },
  { name: 'a field added', before: { spec: {} }, after: { spec: { n: 3 } }, ops: [{ op: 'add', path: '/spec/n', value: 3 }] },
  { name: 'a field replaced', before: { spec: { size: '1G' } }, after: { spec: { size: '954Mi' } }, ops: [{ op: 'replace', path: '/spec/size', value: '954Mi' }] },
  { name: 'a field removed', before: { a: 1, b: 2 }, after: { a: 1 }, ops: [{ op: 'remove', path: '/b' }] },
  { name: 'keys with / and ~ escaped (RFC 6901)', before: { disks: { '/mnt/a': {} } }, after: { disks: { 'disk-1': {}, 'a~b': 1 } }, ops: [{ op: 'remove', path: '/disks/~1mnt~1a' }, { op: 'add', path: '/disks/disk-1', value: {} }, { op: 'add', path: '/disks/a~0b', value: 1 }] },
  { name: 'an array replaced whole', before: { f: ['x'] }, after: { f: ['x', 'y'] }, ops: [{ op: 'replace', path: '/f', value: ['x', 'y'] }] },
  { name: 'null becomes an object', before: { spec: null }, after: { spec: {} }, ops: [{ op: 'replace', path: '/spec', value: {} }] },
];

describe('diffJson', () => {
  for (const c of cases) {
    it(`${c.name}: the patch is minimal and turns before into after`, () => {
      const ops = diffJson(c.before, c.after);
      assert.deepEqual(ops, c.ops);
      const r = applyPatch(c.before, { type: 'json', ops });
      assert.ok(E.isRight(r));
      assert.deepEqual(r.right, c.after);
    });
  }
});
