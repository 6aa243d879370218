import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as E from 'fp-ts/Either';
import { formatBytes, humanBytes, parseBytes } from '../../api/quantity.ts';

describe('parseBytes: exact quantities', () => {
  const ok: Array<[string, number]> = [
    ['0', 0],
    ['1', 1],
    ['1073741824', 1073741824],
    ['1Ki', 1024],
    ['1Mi', 1048576],
    ['10Gi', 10737418240],
    ['1.5Gi', 1610612736],
    ['2Ti', 2199023255552],
    ['1Pi', 1125899906842624],
    ['0.25Ki', 256],
    ['500M', 500000000],
    ['1k', 1000],
    ['2G', 2000000000],
    ['3T', 3000000000000],
    ['1P', 1000000000000000],
    ['1000m', 1],
    ['1000000u', 1],
    ['1000000000n', 1],
    ['12e6', 12000000],
    ['5E3', 5000],
    ['1.5e3', 1500],
    ['+4Ki', 4096],
    ['.5Ki', 512],
  ];
  for (const [input, want] of ok) it(`${input} is ${want} bytes`, () => assert.deepEqual(parseBytes(input), E.right(want)));

  const bad: Array<[string, RegExp]> = [
    ['-1', /negative/],
    ['0.5', /not a whole number of bytes/],
    ['1m', /not a whole number of bytes/],
    ['1Ei', /too large/],
    ['10GB', /not a quantity/],
    ['', /not a quantity/],
    [' 1Gi', /not a quantity/],
    ['1 Gi', /not a quantity/],
    ['Gi', /not a quantity/],
    ['1e99', /exponent out of range|too large/],
    ['9'.repeat(1_000_000), /1000000 characters is not a size/],
  ];
  for (const [input, why] of bad) {
    it(`refuses ${JSON.stringify(input.slice(0, 20))}${input.length > 20 ? '…' : ''}`, () => {
      const r = parseBytes(input);
      assert.ok(E.isLeft(r));
      assert.match(r.left, why);
    });
  }
});

describe('formatting sizes', () => {
  const cases: Array<[number, string, string]> = [
    [1073741824, '1Gi', '1Gi'],
    [1610612736, '1536Mi', '1.5Gi'],
    [1000, '1000', '1000B'],
    [2254857831, '2254857831', '2.1Gi'],
    [0, '0', '0B'],
  ];
  for (const [bytes, canonical, human] of cases) {
    it(`${bytes} formats as ${canonical} and reads as ${human}`, () => {
      assert.equal(formatBytes(bytes), canonical);
      assert.equal(humanBytes(bytes), human);
      assert.deepEqual(parseBytes(canonical), E.right(bytes));
    });
  }
});
