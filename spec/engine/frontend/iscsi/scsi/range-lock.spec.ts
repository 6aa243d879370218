import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RangeLock } from '../../../../../engine/frontend/iscsi/scsi/range-lock.ts';
import { prng } from '../../../../helpers/prng.ts';

describe('LBA range lock', () => {
  const cases = [
    { name: 'disjoint ranges are held at once', a: [0, 8], b: [8, 8], waits: false },
    { name: 'overlapping ranges wait for the earlier holder', a: [0, 8], b: [7, 2], waits: true },
    { name: 'a zero-length range still covers its LBA', a: [5, 0], b: [5, 1], waits: true },
  ] as const;
  for (const c of cases) {
    it(c.name, async () => {
      const lock = new RangeLock();
      const releaseA = await lock.acquire(c.a[0], c.a[1]);
      let got = false;
      const b = lock.acquire(c.b[0], c.b[1]).then((release) => {
        got = true;
        return release;
      });
      // Let every already-resolvable promise settle before looking.
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(got, !c.waits);
      releaseA();
      (await b)();
      assert.equal(lock.size, 0);
    });
  }

  it('hands an overlapping range over in arrival order', async () => {
    const lock = new RangeLock();
    const order: number[] = [];
    const first = await lock.acquire(0, 4);
    const waiters = [1, 2, 3].map((n) => lock.acquire(0, 4).then((release) => {
      order.push(n);
      release();
    }));
    first();
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('tryAcquire holds a free range at once and declines one that overlaps a holder or a waiter (arrival order kept)', async () => {
    const lock = new RangeLock();
    const a = lock.tryAcquire(0, 8);
    assert.ok(a, 'a free range is held without waiting');
    assert.equal(lock.tryAcquire(4, 1), undefined, 'overlaps the holder');
    const b = lock.tryAcquire(8, 8);
    assert.ok(b, 'a disjoint range is held at once');
    // A waiter for [6, 10) queues behind a and b; a later try on [9, 10) must not overtake it.
    let waiterGot = false;
    const waiter = lock.acquire(6, 4).then((release) => {
      waiterGot = true;
      return release;
    });
    a();
    assert.equal(lock.tryAcquire(9, 1), undefined, 'overlaps the waiter, which came first');
    b();
    (await waiter)();
    assert.ok(waiterGot);
    const c = lock.tryAcquire(9, 1);
    assert.ok(c);
    c();
    c();
    assert.equal(lock.size, 0, 'release is idempotent');
  });

  it('agrees with a plain list of held ranges over thousands of random holds and releases in any order', () => {
    const next = prng(42);
    const int = (n: number) => Math.floor(next() * n);
    const lock = new RangeLock();
    const model: Array<{ start: number; end: number; release: () => void }> = [];
    for (let i = 0; i < 5000; i++) {
      if (model.length > 0 && next() < 0.45) {
        // Release one from anywhere in the list (first, last or middle), sometimes twice.
        const [h] = model.splice(int(model.length), 1);
        h!.release();
        if (next() < 0.1) h!.release();
      } else {
        const lba = int(256);
        const blocks = int(16);
        const end = lba + Math.max(blocks, 1);
        const free = model.every((h) => !(h.start < end && lba < h.end));
        const release = lock.tryAcquire(lba, blocks);
        assert.equal(release !== undefined, free, `try #${i} on [${lba}, ${end}) with ${model.length} held`);
        if (release !== undefined) model.push({ start: lba, end, release });
      }
      assert.equal(lock.size, model.length);
    }
  });
});

