import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as E from 'fp-ts/Either';
import { DIRTY_EXTRA_PREFIX } from '../../../engine/controller/dirty-regions.ts';
import type { Engine } from '../../../engine/controller/engine.ts';
import { addReplica, removeReplica } from '../../../engine/controller/membership.ts';
import { openEngine } from '../../../engine/controller/start.ts';
import { collectingLogger, memoryEngine, modeOf, pattern, waitFor } from './engine-fixture.ts';
import { MemoryStore, type MemoryCluster } from '../../helpers/memory-replica.ts';

const KiB = 1024;
const MiB = 1 << 20;

function assertSameStores(cluster: MemoryCluster, addresses: readonly string[], sizeBytes: number): void {
  const [first, ...rest] = addresses.map((a) => cluster.storeOrThrow(a));
  for (const [i, s] of rest.entries()) {
    for (let o = 0; o < sizeBytes; o += MiB) assert.ok(s.read(o, MiB).equals((first as MemoryStore).read(o, MiB)), `${addresses[i + 1]} differs at ${o}`);
    assert.deepEqual(s.allocated(0, sizeBytes), (first as MemoryStore).allocated(0, sizeBytes), `${addresses[i + 1]} allocation differs`);
  }
}

async function added(engine: Engine, address: string): Promise<{ kind: 'full' | 'delta'; done: Promise<void> }> {
  const r = await addReplica(engine, address);
  if (E.isLeft(r)) throw new Error(`add-replica failed: ${r.left._tag}`);
  return r.right;
}

/** Random 4 KiB writes (and some unmaps) until `stop` resolves; every generation differs. */
async function writeLoad(engine: Engine, sizeBytes: number, until: Promise<void>, depth = 8): Promise<number> {
  let stop = false;
  void until.then(() => (stop = true));
  let n = 0;
  const worker = async (w: number) => {
    while (!stop) {
      const off = Math.floor(Math.random() * (sizeBytes / (4 * KiB))) * 4 * KiB;
      if (n % 17 === 5) await engine.unmapAt(off, 4 * KiB);
      else await engine.writeAt(off, pattern(8, n * 8 + w));
      n++;
    }
  };
  await Promise.all(Array.from({ length: depth }, (_, w) => worker(w)));
  return n;
}

describe('rebuild', () => {
  it('fills an empty replica under concurrent writes to the same blocks; the copy never overwrites a newer write', { timeout: 20000 }, async () => {
    const size = 8 * MiB;
    const { cluster, engine } = await memoryEngine(2, { sizeBytes: size, rebuildChunkBytes: 256 * KiB });
    for (let o = 0; o < size; o += MiB) await engine.writeAt(o, pattern(2048, o / MiB));
    cluster.stores.set('r3', new MemoryStore(size));
    cluster.latencyMs = () => Math.random() * 2;
    const { kind, done } = await added(engine, 'r3');
    assert.equal(kind, 'full');
    assert.equal(modeOf(engine, 'r3'), 'WO');
    const writes = await writeLoad(engine, size, done);
    await done;
    assert.equal(modeOf(engine, 'r3'), 'RW');
    const p = engine.find('r3')?.rebuild;
    assert.ok(writes > 50, `only ${writes} writes during the rebuild`);
    assert.equal(p?.doneBytes, p?.totalBytes);
    cluster.latencyMs = () => 0;
    assertSameStores(cluster, ['r1', 'r2', 'r3'], size);
    assert.ok((p?.skippedBytes ?? 0) > 0, 'the copy met no block written during it: the race was not exercised');
    assert.equal(cluster.storeOrThrow('r3').rebuilding, false);
    assert.equal(cluster.storeOrThrow('r3').revision, cluster.storeOrThrow('r1').revision);
    await engine.close();
  });

  it('copies unmapped state: what the target holds and the source does not reads as zeros after', async () => {
    const size = 4 * MiB;
    const { cluster, engine } = await memoryEngine(1, { sizeBytes: size });
    await engine.writeAt(0, pattern(16, 1));
    const stale = new MemoryStore(size);
    stale.write(2 * MiB, pattern(64, 9));
    stale.write(0, pattern(4, 9));
    cluster.stores.set('r2', stale);
    await (await added(engine, 'r2')).done;
    assertSameStores(cluster, ['r1', 'r2'], size);
    assert.deepEqual(stale.read(2 * MiB, 32 * KiB), Buffer.alloc(32 * KiB));
    await engine.close();
  });

  const aborts = [
    { name: 'a rebuild whose source fails sets the target ERR naming the source, and drops its mask', fail: (c: MemoryCluster) => (c.connOrThrow('r1').faults = { fail: { ops: ['read'], error: new Error('EIO: source disk') } }), cause: /rebuild from r1 failed|EIO: source disk/ },
    { name: 'a target removed mid-rebuild stops the copy and drops its mask', fail: (_c: MemoryCluster, e: Engine) => void removeReplica(e, 'r3'), cause: /removed/ },
  ];
  for (const c of aborts) {
    it(c.name, async () => {
      const size = 8 * MiB;
      const { cluster, engine } = await memoryEngine(2, { sizeBytes: size, rebuildChunkBytes: 64 * KiB, rebuildParallel: 1 });
      for (let o = 0; o < size; o += MiB) await engine.writeAt(o, pattern(2048, 1));
      cluster.stores.set('r3', new MemoryStore(size));
      cluster.latencyMs = () => 1;
      const { done } = await added(engine, 'r3');
      c.fail(cluster, engine);
      const ended = new Promise<unknown>((resolve) => engine.events.once('rebuild', (_h, err) => resolve(err)));
      await done;
      assert.ok((await ended) instanceof Error);
      assert.match(engine.find('r3')?.cause?.message ?? 'removed', c.cause);
      assert.equal(engine.masks.size, 0);
      await engine.close();
    });
  }

  it('refuses a second add of the same address while the first is joining', async () => {
    const { cluster, engine } = await memoryEngine(1);
    cluster.stores.set('r2', new MemoryStore(8 * MiB));
    const [a, b] = await Promise.all([addReplica(engine, 'r2'), addReplica(engine, 'r2')]);
    assert.ok(E.isRight(a));
    assert.ok(E.isLeft(b) && b.left._tag === 'AlreadyPresent');
    await a.right.done;
    assert.equal(engine.replicas.filter((h) => h.address === 'r2').length, 1);
    await engine.close();
  });

  it('refuses to add a replica already in the set, and to remove the last RW one', async () => {
    const { engine } = await memoryEngine(1);
    const again = await addReplica(engine, 'r1');
    assert.ok(E.isLeft(again) && again.left._tag === 'AlreadyPresent');
    const last = await removeReplica(engine, 'r1');
    assert.ok(E.isLeft(last) && last.left._tag === 'LastReplica');
    await engine.close();
  });
});

describe('delta rebuild', () => {
  it('records the regions written while a replica is away, plus those unflushed when it left', async () => {
    const size = 16 * MiB;
    const { cluster, engine } = await memoryEngine(3, { sizeBytes: size });
    await engine.writeAt(0, pattern(8, 1));
    await engine.flush();
    await engine.writeAt(3 * MiB, pattern(8, 2));
    cluster.connOrThrow('r3').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r3') === 'ERR');
    await engine.writeAt(7 * MiB + 4096, pattern(8, 3));
    await engine.dirty.sync();
    const id = cluster.storeOrThrow('r3').replicaId;
    assert.equal(engine.dirty.records.get(id)?.regions.encode(), '3,7');
    for (const a of ['r1', 'r2']) assert.match(cluster.storeOrThrow(a).extras[DIRTY_EXTRA_PREFIX + id] ?? '', /"regions":"3,7"/);
    await engine.close();
  });

  it('copies only the dirty regions to a returning replica, then forgets the record', async () => {
    const size = 16 * MiB;
    const { cluster, engine } = await memoryEngine(3, { sizeBytes: size });
    for (let o = 0; o < size; o += MiB) await engine.writeAt(o, pattern(2048, o / MiB));
    await engine.flush();
    cluster.connOrThrow('r3').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r3') === 'ERR');
    await engine.writeAt(5 * MiB, pattern(8, 77));
    await engine.unmapAt(9 * MiB, 64 * KiB);
    const { kind, done } = await added(engine, 'r3');
    assert.equal(kind, 'delta');
    await done;
    assert.equal(modeOf(engine, 'r3'), 'RW');
    const writes = cluster.connOrThrow('r3').calls.get('write') ?? 0;
    assert.ok(writes <= 2, `a delta rebuild of 2 regions sent ${writes} writes`);
    assert.equal(engine.find('r3')?.rebuild?.totalBytes, 2 * MiB - 64 * KiB);
    assertSameStores(cluster, ['r1', 'r2', 'r3'], size);
    const id = cluster.storeOrThrow('r3').replicaId;
    assert.equal(engine.dirty.records.has(id), false);
    assert.equal(cluster.storeOrThrow('r1').extras[DIRTY_EXTRA_PREFIX + id], undefined);
    await engine.close();
  });

  it('keeps the record across an engine restart and delta-rebuilds the replica at start', async () => {
    const size = 16 * MiB;
    const { cluster, engine } = await memoryEngine(3, { sizeBytes: size });
    for (let o = 0; o < size; o += MiB) await engine.writeAt(o, pattern(2048, o / MiB));
    await engine.flush();
    cluster.connOrThrow('r3').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r3') === 'ERR');
    await engine.writeAt(11 * MiB, pattern(8, 5));
    await engine.close();
    const { log, lines } = collectingLogger();
    const again = await openEngine({ volume: 'v1', sizeBytes: size, connect: cluster.connect, log }, ['r1', 'r2', 'r3']);
    assert.equal(modeOf(again, 'r3'), 'WO');
    await waitFor(again, () => modeOf(again, 'r3') === 'RW');
    assert.equal(again.find('r3')?.rebuild?.kind, 'delta');
    assert.ok(lines.some((l) => l.includes('delta rebuild')));
    assertSameStores(cluster, ['r1', 'r2', 'r3'], size);
    await again.close();
  });

  it('leaves the rebuilt replica holding the current records and none of its stale ones', async () => {
    const size = 8 * MiB;
    const { cluster, engine } = await memoryEngine(3, { sizeBytes: size });
    const r2 = cluster.storeOrThrow('r2').replicaId;
    const r3 = cluster.storeOrThrow('r3').replicaId;
    cluster.storeOrThrow('r3').extras[DIRTY_EXTRA_PREFIX + 'gone-long-ago'] = '{}';
    cluster.connOrThrow('r3').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r3') === 'ERR');
    await engine.writeAt(0, pattern(8, 1));
    cluster.connOrThrow('r2').disconnect();
    await waitFor(engine, () => modeOf(engine, 'r2') === 'ERR');
    await engine.writeAt(MiB, pattern(8, 2));
    await (await added(engine, 'r3')).done;
    const keys = Object.keys(cluster.storeOrThrow('r3').extras).sort();
    assert.deepEqual(keys, [DIRTY_EXTRA_PREFIX + r2]);
    assert.equal(engine.dirty.records.has(r3), false);
    await engine.close();
  });

  const fallbacks = [
    { name: 'a replica written by someone else while away gets a full rebuild', spoil: (s: MemoryStore) => void (s.revision += 1000n) },
    { name: 'a replica that was mid-rebuild gets a full rebuild', spoil: (s: MemoryStore) => void (s.rebuilding = true) },
  ];
  for (const c of fallbacks) {
    it(c.name, async () => {
      const size = 4 * MiB;
      const { cluster, engine } = await memoryEngine(2, { sizeBytes: size });
      await engine.writeAt(0, pattern(8, 1));
      cluster.connOrThrow('r2').disconnect();
      await waitFor(engine, () => modeOf(engine, 'r2') === 'ERR');
      c.spoil(cluster.storeOrThrow('r2'));
      const { kind, done } = await added(engine, 'r2');
      await done;
      assert.equal(kind, 'full');
      assertSameStores(cluster, ['r1', 'r2'], size);
      await engine.close();
    });
  }
});
