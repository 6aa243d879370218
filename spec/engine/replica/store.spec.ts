import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import { mkdtemp, rm, writeFile, readFile, appendFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, describeStoreError } from '../../../engine/replica/store-open.ts';
import type { ReplicaStore } from '../../../engine/replica/store.ts';
import { createLogger } from '../../../api/log.ts';

const MiB = 1024 * 1024;
const quiet = createLogger('test', { sink: () => {} });

function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32BE((seed * 2654435761 + i * 7) >>> 0, i);
  return b;
}

async function open(dir: string, sizeBytes = 64 * MiB): Promise<ReplicaStore> {
  const r = await openStore({ dir, sizeBytes, log: quiet });
  if (E.isLeft(r)) throw new Error(describeStoreError(r.left));
  return r.right;
}

describe('ReplicaStore', { timeout: 60_000 }, () => {
  let root: string;
  let n = 0;
  const fresh = () => join(root, `r${n++}`);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shorthorn-store-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const rw = [
    { name: 'a whole aligned block', offset: 4096, length: 4096 },
    { name: 'one sector inside a new block (rest reads zero)', offset: 8192 + 1024, length: 512 },
    { name: 'a run straddling block boundaries', offset: 3 * 4096 - 512, length: 4096 + 1024 },
    { name: '1 MiB', offset: 10 * MiB, length: MiB },
  ];
  for (const c of rw) {
    it(`reads back ${c.name}, and zeros around it`, async () => {
      const s = await open(fresh());
      const data = pattern(c.length, c.offset);
      await s.write(c.offset, data);
      assert.ok((await s.read(c.offset, c.length)).equals(data));
      const lo = Math.floor(c.offset / 4096) * 4096;
      const around = await s.read(lo, c.offset - lo);
      assert.ok(around.equals(Buffer.alloc(c.offset - lo)));
      const end = c.offset + c.length;
      const hi = Math.ceil(end / 4096) * 4096 + 4096;
      assert.ok((await s.read(end, hi - end)).equals(Buffer.alloc(hi - end)));
      await s.close();
    });
  }

  it('keeps all eight concurrent sector writes into one new block', async () => {
    const s = await open(fresh());
    await Promise.all(Array.from({ length: 8 }, (_, i) => s.write(i * 512, pattern(512, i))));
    const got = await s.read(0, 4096);
    for (let i = 0; i < 8; i++) assert.ok(got.subarray(i * 512, (i + 1) * 512).equals(pattern(512, i)), `sector ${i}`);
    assert.equal(s.info().revision, '8');
    await s.close();
  });

  const unmaps = [
    { name: 'whole blocks', offset: 0, length: 8192 },
    { name: 'a partial block at each end', offset: 1024, length: 5 * 1024 },
    { name: 'sectors inside one block', offset: 512, length: 1024 },
  ];
  for (const c of unmaps) {
    it(`unmaps ${c.name}: reads return zeros there and data elsewhere`, async () => {
      const s = await open(fresh());
      const data = pattern(16384, 3);
      await s.write(0, data);
      await s.unmap(c.offset, c.length);
      const got = await s.read(0, 16384);
      const want = Buffer.from(data);
      want.fill(0, c.offset, c.offset + c.length);
      assert.ok(got.equals(want));
      await s.flush();
      await s.close();
      const again = await open(join(root, `r${n - 1}`));
      assert.ok((await again.read(0, 16384)).equals(want), 'after reopen');
      await again.close();
    });
  }

  it('resolves reads through a snapshot layer: newest layer wins, unmap over a snapshot reads zeros', async () => {
    const dir = fresh();
    const s = await open(dir);
    await s.write(0, pattern(3 * 4096, 1));
    const frozen = await s.snapshot();
    assert.equal(frozen, 'layer-000001');
    await s.write(512, pattern(512, 2));
    await s.unmap(2 * 4096, 4096);
    const want = Buffer.concat([pattern(3 * 4096, 1)]);
    pattern(512, 2).copy(want, 512);
    want.fill(0, 2 * 4096);
    assert.ok((await s.read(0, 3 * 4096)).equals(want));
    assert.deepEqual(s.info().chain, ['layer-000001', 'layer-000002']);
    assert.deepEqual(s.allocatedRanges(0, 64 * MiB, 100), [{ offsetBytes: 0, lengthBytes: 3 * 4096 }]);
    await s.close();
    const again = await open(dir);
    assert.ok((await again.read(0, 3 * 4096)).equals(want), 'after reopen');
    await again.close();
  });

  it('snapshots over the orphan files of a snapshot that crashed before the chain named them', async () => {
    const dir = fresh();
    const s = await open(dir);
    await s.write(0, pattern(4096, 1));
    await writeFile(join(dir, 'layer-000002.img'), pattern(8192, 9));
    await writeFile(join(dir, 'layer-000002.alloc'), Buffer.alloc(40, 1));
    assert.equal(await s.snapshot(), 'layer-000001');
    assert.ok((await s.read(0, 8192)).equals(Buffer.concat([pattern(4096, 1), Buffer.alloc(4096)])));
    await s.close();
    const again = await open(dir);
    assert.deepEqual(again.info().chain, ['layer-000001', 'layer-000002']);
    assert.ok((await again.read(0, 8192)).equals(Buffer.concat([pattern(4096, 1), Buffer.alloc(4096)])));
    await again.close();
  });

  it('lists allocated ranges clipped to the window and limited in count', async () => {
    const s = await open(fresh());
    await s.write(0, pattern(4096, 1));
    await s.write(3 * 4096, pattern(8192, 1));
    await s.write(40 * MiB, pattern(512, 1));
    assert.deepEqual(s.allocatedRanges(0, 64 * MiB, 10), [
      { offsetBytes: 0, lengthBytes: 4096 },
      { offsetBytes: 3 * 4096, lengthBytes: 8192 },
      { offsetBytes: 40 * MiB, lengthBytes: 4096 },
    ]);
    assert.deepEqual(s.allocatedRanges(3 * 4096 + 512, 1024, 10), [{ offsetBytes: 3 * 4096 + 512, lengthBytes: 1024 }]);
    assert.equal(s.allocatedRanges(0, 64 * MiB, 2).length, 2);
    await s.close();
  });

  it('reopens with data, revision, extras and flags; a clean close is not dirty', async () => {
    const dir = fresh();
    const s = await open(dir);
    await s.write(MiB, pattern(4096, 9));
    await s.setExtra('missed', 'a');
    await s.setRebuilding(true);
    const id = s.info().replicaId;
    await s.close();
    const again = await open(dir);
    const info = again.info();
    assert.equal(info.replicaId, id);
    assert.equal(info.revision, '1');
    assert.equal(info.dirty, false);
    assert.equal(info.rebuilding, true);
    assert.deepEqual(info.extras, { missed: 'a' });
    assert.ok((await again.read(MiB, 4096)).equals(pattern(4096, 9)));
    await again.setRevision('1000');
    await again.close();
    assert.equal((await open(dir)).info().revision, '1000');
  });

  it('after a crash (no close) is dirty, keeps flushed writes, and is clean again after a flush', async () => {
    const dir = fresh();
    const s = await open(dir);
    await s.write(0, pattern(4096, 1));
    await s.flush();
    const crashed = await open(dir);
    const info = crashed.info();
    assert.equal(info.dirty, true);
    assert.equal(info.revision, '1');
    assert.ok((await crashed.read(0, 4096)).equals(pattern(4096, 1)));
    await crashed.flush();
    assert.equal(crashed.info().dirty, false);
    await crashed.close();
  });

  it('closes only after writes in flight have landed, and refuses I/O after', async () => {
    const dir = fresh();
    const s = await open(dir);
    const writes = Array.from({ length: 50 }, (_, i) => s.write(i * 4096 + 512, pattern(1024, i)));
    const closing = s.close();
    await Promise.all(writes);
    await closing;
    await assert.rejects(s.read(0, 512), /store is closed/);
    const again = await open(dir);
    for (let i = 0; i < 50; i++) assert.ok((await again.read(i * 4096 + 512, 1024)).equals(pattern(1024, i)), `write ${i}`);
    assert.equal(again.info().dirty, false);
    await again.close();
  });

  it('appends thousands of records in one flush and compacts the log when it outgrows the map', async () => {
    const dir = fresh();
    const logPath = join(dir, 'layer-000001.alloc');
    const r = await openStore({ dir, sizeBytes: 64 * MiB, log: quiet, compactMinRecords: 1000 });
    assert.ok(E.isRight(r));
    const s = r.right;
    // 5000 separate runs (every other block): more than one append batch.
    for (let i = 0; i < 5000; i += 250) await Promise.all(Array.from({ length: 250 }, (_, k) => s.write((i + k) * 2 * 4096, pattern(512, i + k))));
    await s.flush();
    assert.equal((await stat(logPath)).size, 16 * 5001);
    await s.unmap(0, 2 * 4096 * 4990);
    await s.flush();
    // Not yet: the next check is at twice the records of the last one (10,000).
    assert.equal((await stat(logPath)).size, 16 * 9991);
    await Promise.all(Array.from({ length: 10 }, (_, k) => s.write((12000 + 2 * k) * 4096, pattern(4096, k))));
    await s.flush();
    // 10,000 records for 20 live runs: rewritten as one record per run.
    assert.equal((await stat(logPath)).size, 16 * 21);
    await s.write(4096, pattern(4096, 1));
    await s.flush();
    const crashed = await open(dir);
    assert.equal(crashed.allocatedRanges(0, 64 * MiB, 100).length, 21);
    assert.ok((await crashed.read(4990 * 2 * 4096, 512)).equals(pattern(512, 4990)));
    assert.ok((await crashed.read(12018 * 4096, 4096)).equals(pattern(4096, 9)));
    assert.ok((await crashed.read(4096, 4096)).equals(pattern(4096, 1)));
    assert.ok((await crashed.read(0, 512)).equals(Buffer.alloc(512)));
    await crashed.close();
    await s.close().catch(() => undefined);
  });

  it('cuts a torn allocation-log tail and opens', async () => {
    const dir = fresh();
    const s = await open(dir);
    await s.write(0, pattern(4096, 1));
    await s.close();
    const logPath = join(dir, 'layer-000001.alloc');
    const size = (await stat(logPath)).size;
    await appendFile(logPath, Buffer.from([1, 0, 0, 0, 0, 0]));
    const again = await open(dir);
    assert.ok((await again.read(0, 4096)).equals(pattern(4096, 1)));
    await again.close();
    assert.equal((await stat(logPath)).size, size);
  });

  const refusals = [
    { name: 'metadata that is not JSON', mangle: (dir: string) => writeFile(join(dir, 'volume.json'), '{ nope'), match: /corrupt replica metadata .*volume\.json: not JSON/ },
    { name: 'metadata with a wrong field', mangle: async (dir: string) => writeFile(join(dir, 'volume.json'), (await readFile(join(dir, 'volume.json'), 'utf8')).replace('"sectorBytes": 512', '"sectorBytes": 4096')), match: /sectorBytes/ },
    { name: 'a state file with no valid slot', mangle: (dir: string) => writeFile(join(dir, 'state.bin'), Buffer.alloc(1024)), match: /corrupt replica state/ },
    { name: 'a corrupt log header', mangle: (dir: string) => writeFile(join(dir, 'layer-000001.alloc'), Buffer.alloc(16)), match: /corrupt allocation log .*bad header/ },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} with a clear message`, async () => {
      const dir = fresh();
      await (await open(dir)).close();
      await c.mangle(dir);
      const r = await openStore({ dir, sizeBytes: 64 * MiB, log: quiet });
      assert.ok(E.isLeft(r));
      assert.match(describeStoreError(r.left), c.match);
    });
  }

  it('refuses a directory whose volume has another size', async () => {
    const dir = fresh();
    await (await open(dir)).close();
    const r = await openStore({ dir, sizeBytes: 128 * MiB, log: quiet });
    assert.ok(E.isLeft(r));
    assert.match(describeStoreError(r.left), /holds a volume of 67108864 bytes \(64Mi\), not the 134217728 bytes/);
  });

  it('serves a sparse 16 TiB volume, last block included, without per-block memory', async () => {
    const dir = fresh();
    const size = 16 * 2 ** 40;
    const s = await open(dir, size);
    await s.write(size - 4096, pattern(4096, 5));
    await s.write(0, pattern(512, 6));
    assert.ok((await s.read(size - 4096, 4096)).equals(pattern(4096, 5)));
    assert.ok((await s.read(8 * 2 ** 40 - 4096, 8192)).equals(Buffer.alloc(8192)));
    await s.write(8 * 2 ** 40 - 2048, pattern(4096, 7));
    assert.ok((await s.read(8 * 2 ** 40 - 2048, 4096)).equals(pattern(4096, 7)), 'across the segment boundary');
    assert.deepEqual(s.allocatedRanges(0, size, 10), [
      { offsetBytes: 0, lengthBytes: 4096 },
      { offsetBytes: 8 * 2 ** 40 - 4096, lengthBytes: 8192 },
      { offsetBytes: size - 4096, lengthBytes: 4096 },
    ]);
    await s.close();
    const again = await open(dir, size);
    assert.ok((await again.read(size - 4096, 4096)).equals(pattern(4096, 5)));
    await again.close();
  });
});
