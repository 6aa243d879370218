import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as E from 'fp-ts/Either';
import { matchesSelector, parseSelector } from '../../../api/store/label-selector.ts';

describe('label selectors', () => {
  const labels = { app: 'db', tier: 'gold', 'topology.kubernetes.io/zone': 'z1' };
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=db', true],
    ['app==db', true],
    ['app!=db', false],
    ['app!=web', true],
    ['missing!=x', true],
    ['app in (db,web)', true],
    ['app notin (db)', false],
    ['app,tier', true],
    ['!missing', true],
    ['!app', false],
    ['topology.kubernetes.io/zone=z1', true],
    ['app=db,tier in (silver)', false],
  ];
  for (const [sel, want] of cases) {
    it(`${JSON.stringify(sel)} ${want ? 'matches' : 'does not match'}`, () => {
      const r = parseSelector(sel);
      assert.ok(E.isRight(r), E.isLeft(r) ? r.left : '');
      assert.equal(matchesSelector(r.right, labels), want);
    });
  }
  const bad = ['app in db', 'app=(x)', '=x', 'a b c', 'app=x y'];
  for (const sel of bad) it(`refuses ${JSON.stringify(sel)} with a message`, () => assert.ok(E.isLeft(parseSelector(sel))));
});
