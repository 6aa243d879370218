import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegionBitmap, regionBytesFor } from '../../../engine/controller/region-bitmap.ts';
import { WriteMask } from '../../../engine/controller/write-mask.ts';

const MiB = 1 << 20;

describe('regionBytesFor', () => {
  const cases = [
    { size: 1 * MiB, region: MiB },
    { size: 2 ** 40, region: MiB },
    { size: 16 * 2 ** 40, region: 16 * MiB },
  ];
  for (const c of cases) it(`uses ${c.region} byte regions for a ${c.size} byte volume`, () => assert.equal(regionBytesFor(c.size), c.region));
});

describe('RegionBitmap', () => {
  it('marks the regions a range touches and says when one is new', () => {
    const bm = new RegionBitmap(MiB, 10 * MiB);
    assert.equal(bm.markRange(MiB - 512, 1024), true);
    assert.equal(bm.markRange(MiB, 512), false);
    assert.deepEqual(bm.runs(), [[0, 1]]);
  });

  const texts = ['', '0', '0-3,7', '9', '2-4,6-9'];
  for (const t of texts) {
    it(`round-trips "${t}" through its text form`, () => {
      const bm = RegionBitmap.decode(t, MiB, 10 * MiB);
      assert.ok(bm instanceof RegionBitmap);
      assert.equal(bm.encode(), t);
    });
  }

  const bad = ['x', '3-1', '10', '0-10', '1,,2'];
  for (const t of bad) it(`refuses "${t}"`, () => assert.equal(typeof RegionBitmap.decode(t, MiB, 10 * MiB), 'string'));

  it('clips the last region to the volume size in byte ranges', () => {
    const bm = new RegionBitmap(MiB, 2 * MiB + 4096);
    bm.markRange(2 * MiB, 512);
    assert.deepEqual(bm.byteRanges(), [{ offsetBytes: 2 * MiB, lengthBytes: 4096 }]);
  });
});

describe('WriteMask', () => {
  it('returns the unwritten parts of a range', () => {
    const m = new WriteMask();
    m.mark(1024, 1024);
    m.mark(4096, 512);
    assert.deepEqual(m.unmasked(0, 8192), [
      { offsetBytes: 0, lengthBytes: 1024 },
      { offsetBytes: 2048, lengthBytes: 2048 },
      { offsetBytes: 4608, lengthBytes: 8192 - 4608 },
    ]);
    assert.deepEqual(m.unmasked(3 * MiB, 4096), [{ offsetBytes: 3 * MiB, lengthBytes: 4096 }]);
  });
});

describe('encodeDirtyRecord', () => {
  it('stores a record too scattered to fit as "every region" (a safe superset)', async () => {
    const { encodeDirtyRecord, decodeDirtyRecord } = await import('../../../engine/controller/dirty-regions.ts');
    const size = 2 ** 40;
    const regions = new RegionBitmap(MiB, size);
    for (let i = 0; i < regions.regions; i += 2) regions.markRange(i * MiB, 512);
    const text = encodeDirtyRecord({ replicaId: 'x', address: 'a:1', revisionMax: 5n, regions });
    assert.ok(text.length < 1024);
    const back = decodeDirtyRecord('x', text, size, MiB);
    assert.ok(back._tag === 'Right' && back.right.regions.count() === regions.regions);
  });
});
