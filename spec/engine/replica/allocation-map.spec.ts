import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AllocationMap, CHUNK_BLOCKS } from '../../../engine/replica/allocation-map.ts';

describe('AllocationMap', () => {
  it('allocates no chunk for a 16 TiB volume until a block is set, then one per touched 128 MiB', () => {
    const m = new AllocationMap(2 ** 32);
    assert.equal(m.allocatedChunks, 0);
    m.set(0);
    m.set(2 ** 32 - 1);
    assert.equal(m.allocatedChunks, 2);
    assert.ok(m.has(0) && m.has(2 ** 32 - 1) && !m.has(1));
  });

  const cases = [
    { name: 'one run inside a word', set: [[3, 5]], from: 0, end: 100, runs: [[3, 5]] },
    { name: 'runs across word and chunk boundaries', set: [[30, 4], [CHUNK_BLOCKS - 2, 5]], from: 0, end: 2 * CHUNK_BLOCKS, runs: [[30, 4], [CHUNK_BLOCKS - 2, 5]] },
    { name: 'a window that clips runs', set: [[10, 20]], from: 15, end: 20, runs: [[15, 5]] },
    { name: 'nothing set', set: [], from: 0, end: 3 * CHUNK_BLOCKS, runs: [] },
  ];
  for (const c of cases) {
    it(`lists ${c.name}`, () => {
      const m = new AllocationMap(4 * CHUNK_BLOCKS);
      for (const [s, n] of c.set) m.setRun(s as number, n as number);
      assert.deepEqual([...m.runs(c.from, c.end)].map((r) => [r.start, r.count]), c.runs);
    });
  }

  it('agrees with a plain Set for random sets, clears and queries', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 3 * CHUNK_BLOCKS - 1 }), fc.nat({ max: 80 })), { maxLength: 40 }), fc.nat({ max: 3 * CHUNK_BLOCKS }), (ops, probe) => {
        const n = 3 * CHUNK_BLOCKS;
        const m = new AllocationMap(n);
        const ref = new Set<number>();
        for (const [set, start, count] of ops) {
          const c = Math.min(count, n - start);
          if (set) m.setRun(start, c);
          else m.clearRun(start, c);
          for (let b = start; b < start + c; b++) set ? ref.add(b) : ref.delete(b);
        }
        let want = -1;
        for (let b = probe; b < n; b++) if (ref.has(b)) { want = b; break; }
        assert.equal(m.nextSet(probe, n), want);
        let clear = n;
        for (let b = probe; b < n; b++) if (!ref.has(b)) { clear = b; break; }
        assert.equal(m.nextClear(probe, n), clear);
        let total = 0;
        for (const r of m.runs()) total += r.count;
        assert.equal(total, ref.size);
      }),
      { numRuns: 300 },
    );
  });
});
