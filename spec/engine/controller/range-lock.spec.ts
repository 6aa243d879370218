import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RangeLock } from '../../../engine/controller/range-lock.ts';

describe('RangeLock', () => {
  const cases = [
    { name: 'disjoint ranges do not wait', a: [0, 4096], b: [4096, 4096], waits: false },
    { name: 'overlapping ranges wait', a: [0, 4096], b: [2048, 4096], waits: true },
    { name: 'a range inside another waits', a: [0, 1 << 20], b: [512, 512], waits: true },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const lock = new RangeLock();
      const first = lock.acquire(c.a[0], c.a[1]);
      const second = lock.acquire(c.b[0], c.b[1]);
      assert.equal(first.ready, undefined);
      assert.equal(second.ready !== undefined, c.waits);
      first.hold.release();
      second.hold.release();
      assert.equal(lock.size, 0);
    });
  }

  it('admits overlapping holders in FIFO order and a barrier waits for all earlier ones', async () => {
    const lock = new RangeLock();
    const order: string[] = [];
    const a = await lock.lock(0, 1024);
    const pb = lock.lock(512, 1024).then((h) => (order.push('b'), h));
    const pc = lock.lock(1024, 512).then((h) => (order.push('c'), h));
    const pbar = lock.exclusive().then((h) => (order.push('barrier'), h));
    order.push('a-release');
    a.release();
    const b = await pb;
    b.release();
    (await pc).release();
    (await pbar).release();
    assert.deepEqual(order, ['a-release', 'b', 'c', 'barrier']);
  });
});
