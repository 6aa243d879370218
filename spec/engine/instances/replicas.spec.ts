import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSafeDataDirectoryName } from '../../../engine/instances/replicas.ts';

describe('replica data directory names', () => {
  const cases: Array<[string, boolean]> = [
    ['v1-3f2a9c1e', true],
    ['pvc-0b1c.r1_x', true],
    ['', false],
    ['.', false],
    ['..', false],
    ['../etc', false],
    ['a/b', false],
    ['.hidden', false],
    ['x'.repeat(254), false],
  ];
  for (const [name, ok] of cases) {
    it(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)} is ${ok ? 'accepted' : 'refused'}`, () => assert.equal(isSafeDataDirectoryName(name), ok));
  }
});
