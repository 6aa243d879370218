import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as E from 'fp-ts/Either';
import { decodeDirtyRecord, DIRTY_EXTRA_PREFIX } from '../../../engine/controller/dirty-regions.ts';
import type { Engine } from '../../../engine/controller/engine.ts';
import { addReplica, connectHandle, planRebuild, startRebuild } from '../../../engine/controller/membership.ts';
import { RegionBitmap } from '../../../engine/controller/region-bitmap.ts';
import { openEngine } from '../../../engine/controller/start.ts';
import { collectingLogger, memoryEngine, modeOf, pattern, waitFor } from './engine-fixture.ts';
import type { MemoryCluster } from '../../helpers/memory-replica.ts';

/** Online volume expansion in the engine, over memory replicas (which refuse ranges past their end, as real ones do). */

const MiB = 1 << 20;
const TiB = 2 ** 40;

async function rebuilt(engine: Engine, address: string): Promise<'full' | 'delta'> {
  const r = await addReplica(engine, address);
  if (E.isLeft(r)) throw new Error(`add-replica failed: ${JSON.stringify(r.left)}`);
  await r.right.done;
  return r.right.kind;
}

/** memoryEngine, closed when the test ends, passed or not (a failed test must not leave the engine's timers running). */
async function opened(t: TestContext, n: number, opts: Parameters<typeof memoryEngine>[1]): ReturnType<typeof memoryEngine> {
  const r = await memoryEngine(n, opts);
  t.after(() => r.engine.close());
  return r;
}

/** Every store holds the same bytes in [offset, offset+length). */
function assertSame(cluster: MemoryCluster, addresses: readonly string[], offsetBytes: number, lengthBytes: number): void {
  const want = cluster.storeOrThrow(addresses[0] as string).read(offsetBytes, lengthBytes);
  for (const a of addresses.slice(1)) assert.ok(cluster.storeOrThrow(a).read(offsetBytes, lengthBytes).equals(want), `${a} differs in ${offsetBytes}+${lengthBytes}`);
}

describe('Engine.expand', () => {
  it('grows every replica and then the volume: I/O past the old end is refused before and served after; listeners hear it once', async (t) => {
    const { cluster, engine } = await opened(t, 3, { sizeBytes: 8 * MiB });
    const heard: number[] = [];
    engine.onResize((n) => heard.push(n));
    await engine.writeAt(8 * MiB - 4096, pattern(8, 1));
    await assert.rejects(engine.writeAt(8 * MiB, pattern(8, 2)), (e: Error & { code?: string }) => e.code === 'ERANGE');
    await engine.expand(24 * MiB);
    assert.equal(engine.sizeBytes, 24 * MiB);
    assert.deepEqual(heard, [24 * MiB]);
    for (const a of ['r1', 'r2', 'r3']) assert.equal(cluster.storeOrThrow(a).sizeBytes, 24 * MiB, a);
    await engine.writeAt(24 * MiB - 64 * 1024, pattern(128, 3));
    assert.ok((await engine.readAt(24 * MiB - 64 * 1024, 64 * 1024)).equals(pattern(128, 3)));
    assert.ok((await engine.readAt(8 * MiB - 4096, 8192)).equals(Buffer.concat([pattern(8, 1), Buffer.alloc(4096)])));
    assertSame(cluster, ['r1', 'r2', 'r3'], 0, 24 * MiB);
    assert.deepEqual(
      engine.replicas.map((h) => [h.mode, h.info?.sizeBytes]),
      [['RW', 24 * MiB], ['RW', 24 * MiB], ['RW', 24 * MiB]],
    );
    await engine.expand(24 * MiB);
    assert.deepEqual(heard, [24 * MiB], 'the same size again is a no-op');
    await engine.close();
  });

  const refused = [
    { name: 'a shrink', size: 4 * MiB, why: /cannot shrink from 8388608 to 4194304 bytes/ },
    { name: 'a size that is not a multiple of 512', size: 16 * MiB + 100, why: /multiple of 512/ },
    { name: 'a size past 16 TiB', size: 17 * TiB, why: /at most 16Ti/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name} with EINVAL and keeps the size`, async (t) => {
      const { cluster, engine } = await opened(t, 2, { sizeBytes: 8 * MiB });
      const heard: number[] = [];
      engine.onResize((n) => heard.push(n));
      await assert.rejects(engine.expand(c.size), (e: Error & { code?: string }) => e.code === 'EINVAL' && c.why.test(e.message));
      assert.equal(engine.sizeBytes, 8 * MiB);
      assert.deepEqual(heard, []);
      assert.equal(cluster.storeOrThrow('r1').sizeBytes, 8 * MiB);
      await engine.close();
    });
  }

  it('sets a replica that fails to grow ERR with its cause, and grows the volume on the others', async (t) => {
    const { cluster, engine } = await opened(t, 3, { sizeBytes: 8 * MiB });
    cluster.connOrThrow('r2').faults = { fail: { ops: ['expand'], error: Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }) } };
    await engine.expand(16 * MiB);
    assert.equal(engine.sizeBytes, 16 * MiB);
    assert.equal(modeOf(engine, 'r2'), 'ERR');
    assert.match(engine.find('r2')?.cause?.message ?? '', /ENOSPC/);
    await engine.writeAt(12 * MiB, pattern(8, 4));
    assertSame(cluster, ['r1', 'r3'], 12 * MiB, 4096);
    await engine.close();
  });

  it('rejects and keeps the old size when no RW replica could grow', async (t) => {
    const { cluster, engine } = await opened(t, 1, { sizeBytes: 8 * MiB });
    cluster.connOrThrow('r1').faults = { fail: { ops: ['expand'], error: Object.assign(new Error('EIO: disk'), { code: 'EIO' }) } };
    const heard: number[] = [];
    engine.onResize((n) => heard.push(n));
    await assert.rejects(engine.expand(16 * MiB), /^BlockIoError: volume v1: cannot expand to 16777216 bytes: .*EIO: disk/);
    assert.equal(engine.sizeBytes, 8 * MiB);
    assert.deepEqual(heard, []);
    await engine.close();
  });

  it('grows a replica that was away when it comes back, and its delta rebuild brings the writes past the old end', async (t) => {
    const { cluster, engine } = await opened(t, 3, { sizeBytes: 8 * MiB });
    await engine.writeAt(0, pattern(16, 5));
    await engine.flush();
    cluster.connOrThrow('r3').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r3') === 'ERR');
    await engine.writeAt(2 * MiB, pattern(8, 6));
    await engine.expand(32 * MiB);
    await engine.writeAt(30 * MiB, pattern(8, 7));
    assert.equal(cluster.storeOrThrow('r3').sizeBytes, 8 * MiB, 'the away replica was not touched');
    assert.equal(await rebuilt(engine, 'r3'), 'delta');
    assert.equal(modeOf(engine, 'r3'), 'RW');
    assert.equal(cluster.storeOrThrow('r3').sizeBytes, 32 * MiB);
    assert.ok(cluster.storeOrThrow('r3').read(30 * MiB, 4096).equals(pattern(8, 7)));
    assertSame(cluster, ['r1', 'r2', 'r3'], 0, 32 * MiB);
    await engine.close();
  });

  it('grows under the barrier a replica that connected before an expansion and joins after it', async (t) => {
    const { cluster, engine } = await opened(t, 2, { sizeBytes: 8 * MiB });
    cluster.connOrThrow('r2').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r2') === 'ERR');
    const h = engine.find('r2');
    assert.ok(h !== undefined);
    const info = await connectHandle(engine, h);
    assert.ok(E.isRight(info) && info.right.sizeBytes === 8 * MiB, 'connected at the old size');
    await engine.expand(16 * MiB);
    await engine.writeAt(12 * MiB, pattern(8, 8));
    const { plan, why } = planRebuild(engine, info.right);
    const started = await startRebuild(engine, h, plan, why);
    assert.ok(E.isRight(started));
    await started.right;
    assert.equal(modeOf(engine, 'r2'), 'RW');
    assert.equal(cluster.storeOrThrow('r2').sizeBytes, 16 * MiB);
    await engine.writeAt(15 * MiB, pattern(8, 9));
    assertSame(cluster, ['r1', 'r2'], 0, 16 * MiB);
    await engine.close();
  });

  it('refuses a replica larger than the volume, saying how to start the engine', async (t) => {
    const { cluster, engine } = await opened(t, 1, { sizeBytes: 8 * MiB });
    const { MemoryStore } = await import('../../helpers/memory-replica.ts');
    cluster.stores.set('big', new MemoryStore(16 * MiB));
    const r = await addReplica(engine, 'big');
    assert.ok(E.isLeft(r) && r.left._tag === 'Incompatible');
    assert.match(JSON.stringify(r.left), /larger than the volume's 8388608.*start the engine with that size/);
    await engine.close();
  });

  it('grows every replica at start when the engine is started with a larger size (offline expansion)', async (t) => {
    const { cluster, engine } = await opened(t, 2, { sizeBytes: 8 * MiB });
    await engine.writeAt(4 * MiB, pattern(8, 10));
    await engine.close();
    const { log } = collectingLogger();
    const again = await openEngine({ volume: 'v1', sizeBytes: 20 * MiB, connect: cluster.connect, log, timeoutMs: 1000 }, ['r1', 'r2']);
    t.after(() => again.close());
    assert.deepEqual(
      again.replicas.map((h) => h.mode),
      ['RW', 'RW'],
    );
    for (const a of ['r1', 'r2']) assert.equal(cluster.storeOrThrow(a).sizeBytes, 20 * MiB);
    assert.ok((await again.readAt(4 * MiB, 4096)).equals(pattern(8, 10)));
    await again.writeAt(19 * MiB, pattern(8, 11));
    assertSame(cluster, ['r1', 'r2'], 0, 20 * MiB);
    await again.close();
  });

  it('keeps what an away replica missed across a growth that coarsens the regions (1 TiB to 2 TiB), in memory and on the replicas', async (t) => {
    const { cluster, engine } = await opened(t, 3, { sizeBytes: TiB });
    assert.equal(engine.dirty.regionBytes, MiB);
    cluster.connOrThrow('r3').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r3') === 'ERR');
    await engine.writeAt(5 * MiB + 4096, pattern(8, 12));
    await engine.expand(2 * TiB);
    assert.equal(engine.dirty.regionBytes, 2 * MiB);
    await engine.writeAt(1.5 * TiB, pattern(8, 13));
    await engine.dirty.sync();
    const id = cluster.storeOrThrow('r3').replicaId;
    assert.equal(engine.dirty.records.get(id)?.regions.encode(), `2,${(1.5 * TiB) / (2 * MiB)}`);
    for (const a of ['r1', 'r2']) assert.match(cluster.storeOrThrow(a).extras[DIRTY_EXTRA_PREFIX + id] ?? '', /"regionBytes":2097152/);
    assert.equal(await rebuilt(engine, 'r3'), 'delta');
    for (const at of [5 * MiB + 4096, 1.5 * TiB]) assertSame(cluster, ['r1', 'r2', 'r3'], at - 4096, 3 * 4096);
    assert.deepEqual(cluster.storeOrThrow('r3').allocated(0, 2 * TiB), cluster.storeOrThrow('r1').allocated(0, 2 * TiB));
    await engine.close();
  });
});

describe('dirty records across a growth', () => {
  it('reads a record written in a smaller volume\'s 1 MiB regions into 2 MiB ones, covering every old region', () => {
    const text = JSON.stringify({ address: 'r3', revisionMax: '7', regionBytes: MiB, regions: '1,5-6,1048575' });
    const r = decodeDirtyRecord('id', text, 2 * TiB, 2 * MiB);
    assert.ok(E.isRight(r), E.isLeft(r) ? r.left : '');
    assert.equal(r.right.regions.regionBytes, 2 * MiB);
    assert.equal(r.right.regions.encode(), '0,2-3,524287');
  });

  it('refuses a record whose region size is not a power of two, and one below 1 MiB', () => {
    for (const regionBytes of [3 * MiB, 4096]) {
      const text = JSON.stringify({ address: 'r3', revisionMax: '7', regionBytes, regions: '1' });
      assert.ok(E.isLeft(decodeDirtyRecord('id', text, TiB, MiB)), String(regionBytes));
    }
  });

  it('adds a bitmap of another geometry as the regions it overlaps, clipped to the volume', () => {
    const small = RegionBitmap.decode('0,3,9', MiB, 10 * MiB) as RegionBitmap;
    const big = RegionBitmap.from(small, 4 * MiB, 9 * MiB);
    assert.equal(big.encode(), '0,2');
    const same = RegionBitmap.from(small, MiB, 20 * MiB);
    assert.equal(same.encode(), '0,3,9');
  });
});
