import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockIoError } from '../../../engine/block-device.ts';
import { EngineStartError } from '../../../engine/controller/errors.ts';
import { openEngine } from '../../../engine/controller/start.ts';
import { collectingLogger, memoryEngine, modeOf, pattern, waitFor } from './engine-fixture.ts';
import { MemoryCluster } from '../../helpers/memory-replica.ts';

const KiB = 1024;
const MiB = 1 << 20;

describe('Engine I/O', () => {
  it('writes reach every replica and reads return them', async () => {
    const { cluster, engine, addresses } = await memoryEngine(3);
    const data = pattern(8, 1);
    await engine.writeAt(64 * KiB, data);
    assert.deepEqual(await engine.readAt(64 * KiB, data.length), data);
    for (const a of addresses) assert.deepEqual(cluster.storeOrThrow(a).read(64 * KiB, data.length), data);
    await engine.close();
  });

  it('spreads reads across the RW replicas', async () => {
    const { cluster, engine, addresses } = await memoryEngine(3);
    await Promise.all(Array.from({ length: 60 }, (_, i) => engine.readAt((i % 16) * 4 * KiB, 4 * KiB)));
    for (const a of addresses) assert.ok((cluster.connOrThrow(a).calls.get('read') ?? 0) >= 10, `${a} served ${cluster.connOrThrow(a).calls.get('read')} reads`);
    await engine.close();
  });

  it('sends a burst of reads to one replica, up to 16, and the next burst to the least busy one', async () => {
    const { cluster, engine, addresses } = await memoryEngine(3);
    cluster.latencyMs = () => 2;
    const served = () => addresses.map((a) => cluster.connOrThrow(a).calls.get('read') ?? 0);
    const first = Array.from({ length: 10 }, (_, i) => engine.readAt(i * 4 * KiB, 4 * KiB));
    assert.deepEqual([...served()].sort((a, b) => b - a), [10, 0, 0], 'one burst of 10 reads on one replica');
    await new Promise<void>((resolve) => process.nextTick(resolve));
    const second = Array.from({ length: 20 }, (_, i) => engine.readAt(i * 4 * KiB, 4 * KiB));
    const after = served();
    assert.equal(after.reduce((a, b) => a + b, 0), 30);
    assert.ok(after.every((n) => n <= 16), `no replica got more than 16 of a burst: ${after}`);
    assert.equal(after.filter((n) => n > 0).length, 3, `the second burst went to the idle replicas first: ${after}`);
    await Promise.all([...first, ...second]);
    await engine.close();
  });

  it('keeps many I/Os in flight on one replica at once', async () => {
    const { cluster, engine } = await memoryEngine(1);
    cluster.latencyMs = () => 5;
    let peak = 0;
    const h = engine.find('r1');
    const ios = Array.from({ length: 32 }, (_, i) => engine.writeAt(i * 4 * KiB, pattern(8, i)).then(() => undefined));
    peak = h?.outstanding ?? 0;
    await Promise.all(ios);
    assert.equal(peak, 32);
    await engine.close();
  });

  it('applies overlapping writes in the same order on every replica, even when completions reorder', async () => {
    const { cluster, engine, addresses } = await memoryEngine(3);
    cluster.latencyMs = () => Math.random() * 4;
    const writes = Array.from({ length: 200 }, (_, i) => engine.writeAt(((i * 7) % 12) * 512, pattern(4, i)));
    await Promise.all(writes);
    const first = cluster.storeOrThrow('r1').read(0, 16 * KiB);
    for (const a of addresses) assert.deepEqual(cluster.storeOrThrow(a).read(0, 16 * KiB), first, `${a} differs`);
    await engine.close();
  });

  const bad = [
    { name: 'an unaligned offset is EINVAL', off: 100, len: 512, code: 'EINVAL' },
    { name: 'an unaligned length is EINVAL', off: 0, len: 100, code: 'EINVAL' },
    { name: 'past the end is ERANGE', off: 8 * MiB - 512, len: 1024, code: 'ERANGE' },
  ];
  for (const c of bad) {
    it(c.name, async () => {
      const { engine } = await memoryEngine(1);
      await assert.rejects(engine.readAt(c.off, c.len), (e: BlockIoError) => e.code === c.code);
      await engine.close();
    });
  }

  it('treats zero-length I/O as done without sending anything', async () => {
    const { cluster, engine } = await memoryEngine(1);
    assert.equal((await engine.readAt(0, 0)).length, 0);
    await engine.writeAt(512, Buffer.alloc(0));
    await engine.unmapAt(1024, 0);
    const c = cluster.connOrThrow('r1').calls;
    assert.deepEqual([c.get('read'), c.get('write'), c.get('unmap')], [undefined, undefined, undefined]);
    await engine.close();
  });

  it('splits I/O larger than maxIoBytes', async () => {
    const { cluster, engine } = await memoryEngine(1, { maxIoBytes: 64 * KiB });
    const data = pattern(512, 3);
    await engine.writeAt(0, data);
    assert.equal(cluster.connOrThrow('r1').calls.get('write'), 4);
    assert.deepEqual(await engine.readAt(0, data.length), data);
    await engine.close();
  });
});

describe('Engine failure handling', () => {
  const writeFaults = [
    { name: 'a replica whose writes fail goes ERR and the write succeeds', fault: { fail: { ops: ['write'], error: new Error('EIO: bad sector') } }, cause: /EIO: bad sector/ },
    { name: 'a replica out of space goes ERR, named with its cause', fault: { noSpace: true }, cause: /ENOSPC/ },
    { name: 'a replica that disconnects goes ERR', fault: 'disconnect', cause: /connection|reset/ },
  ] as const;
  for (const c of writeFaults) {
    it(c.name, async () => {
      const { cluster, engine, lines } = await memoryEngine(3);
      if (c.fault === 'disconnect') cluster.connOrThrow('r2').disconnect();
      else cluster.connOrThrow('r2').faults = c.fault;
      await engine.writeAt(0, pattern(8, 9));
      await waitFor(engine, () => modeOf(engine, 'r2') === 'ERR');
      assert.match(engine.find('r2')?.cause?.message ?? '', c.cause);
      assert.ok(lines.some((l) => l.includes('replica r2 set to ERR')));
      assert.deepEqual(await engine.readAt(0, 4 * KiB), pattern(8, 9));
      await engine.close();
    });
  }

  it('fails writes with EIO once no replica is left, and never hangs', async () => {
    const { cluster, engine } = await memoryEngine(2);
    for (const a of ['r1', 'r2']) cluster.connOrThrow(a).faults = { fail: { ops: ['write', 'read'], error: new Error('EIO: dead disk') } };
    await assert.rejects(engine.writeAt(0, pattern(1, 1)), (e: BlockIoError) => e.code === 'EIO' && /dead disk/.test(e.message));
    await assert.rejects(engine.readAt(0, 512), (e: BlockIoError) => e.code === 'EIO');
    await engine.close();
  });

  it('fails with ENOSPC when every replica is out of space, keeping them all', async () => {
    const { cluster, engine } = await memoryEngine(2);
    for (const a of ['r1', 'r2']) cluster.connOrThrow(a).faults = { noSpace: true };
    await assert.rejects(engine.writeAt(0, pattern(1, 1)), (e: BlockIoError) => e.code === 'ENOSPC');
    assert.deepEqual([modeOf(engine, 'r1'), modeOf(engine, 'r2')], ['RW', 'RW']);
    await engine.close();
  });

  it('retries a failed read on another replica and sets the failing one ERR', async () => {
    const { cluster, engine } = await memoryEngine(2);
    await engine.writeAt(0, pattern(8, 4));
    cluster.connOrThrow('r1').faults = { fail: { ops: ['read'], error: new Error('EIO: read error') } };
    cluster.connOrThrow('r2').faults = {};
    for (let i = 0; i < 4; i++) assert.deepEqual(await engine.readAt(0, 4 * KiB), pattern(8, 4));
    assert.equal(modeOf(engine, 'r1'), 'ERR');
    assert.equal(modeOf(engine, 'r2'), 'RW');
    await engine.close();
  });

  it('turns a replica whose calls hang ERR after the timeout; the write completes', { timeout: 5000 }, async () => {
    const { cluster, engine } = await memoryEngine(2, { timeoutMs: 300 });
    cluster.connOrThrow('r2').faults = { hang: true };
    const t0 = performance.now();
    await engine.writeAt(0, pattern(8, 2));
    const ms = performance.now() - t0;
    assert.equal(modeOf(engine, 'r2'), 'ERR');
    assert.match(engine.find('r2')?.cause?.message ?? '', /timed out after 300 ms/);
    assert.ok(ms >= 290 && ms < 1300, `took ${ms} ms`);
    await engine.close();
  });

  it('finds a dead idle replica by ping', { timeout: 5000 }, async () => {
    const { cluster, engine } = await memoryEngine(2, { timeoutMs: 200, pingMs: 100 });
    cluster.connOrThrow('r1').faults = { hang: true };
    await waitFor(engine, () => modeOf(engine, 'r1') === 'ERR');
    assert.match(engine.find('r1')?.cause?.message ?? '', /ping timed out/);
    await engine.close();
  });
});

describe('Engine start and revision counter', () => {
  it('trusts only the highest revision and rebuilds the others', async () => {
    const cluster = new MemoryCluster(4 * MiB, ['a', 'b', 'c']);
    for (const a of ['a', 'b']) cluster.storeOrThrow(a).write(0, pattern(8, 5));
    cluster.storeOrThrow('c').write(0, pattern(8, 6));
    cluster.storeOrThrow('a').write(4096, pattern(1, 1));
    cluster.storeOrThrow('b').write(4096, pattern(1, 1));
    const { log } = collectingLogger();
    const engine = await openEngine({ volume: 'v', sizeBytes: 4 * MiB, connect: cluster.connect, log }, ['a', 'b', 'c']);
    assert.deepEqual([modeOf(engine, 'a'), modeOf(engine, 'b')], ['RW', 'RW']);
    assert.equal(modeOf(engine, 'c'), 'WO');
    await waitFor(engine, () => modeOf(engine, 'c') === 'RW');
    assert.deepEqual(cluster.storeOrThrow('c').read(0, 8192), cluster.storeOrThrow('a').read(0, 8192));
    assert.equal(cluster.storeOrThrow('c').revision, cluster.storeOrThrow('a').revision);
    await engine.close();
  });

  it('never uses a replica marked mid-rebuild as a source, even at the highest revision', async () => {
    const cluster = new MemoryCluster(4 * MiB, ['a', 'b']);
    cluster.storeOrThrow('a').write(0, pattern(8, 1));
    for (let i = 0; i < 5; i++) cluster.storeOrThrow('b').write(0, pattern(8, 2));
    cluster.storeOrThrow('b').rebuilding = true;
    const { log } = collectingLogger();
    const engine = await openEngine({ volume: 'v', sizeBytes: 4 * MiB, connect: cluster.connect, log }, ['a', 'b']);
    assert.equal(modeOf(engine, 'a'), 'RW');
    await waitFor(engine, () => modeOf(engine, 'b') === 'RW');
    assert.deepEqual(cluster.storeOrThrow('b').read(0, 4096), pattern(8, 1));
    await engine.close();
  });

  const unclean = [
    { name: 'keeps one authority when all stopped uncleanly; the others are rebuilt from it', dirty: ['a', 'b', 'c'], rw: ['a'] },
    { name: 'keeps the cleanly stopped replicas and rebuilds the unclean one', dirty: ['b'], rw: ['a', 'c'] },
  ];
  for (const c of unclean) {
    it(c.name, async () => {
      const cluster = new MemoryCluster(4 * MiB, ['a', 'b', 'c']);
      for (const a of ['a', 'b', 'c']) cluster.storeOrThrow(a).write(0, pattern(8, 1));
      cluster.storeOrThrow('b').write(8192, pattern(1, 2));
      cluster.storeOrThrow('b').revision--;
      for (const a of c.dirty) cluster.storeOrThrow(a).dirty = true;
      const { log } = collectingLogger();
      const engine = await openEngine({ volume: 'v', sizeBytes: 4 * MiB, connect: cluster.connect, log }, ['a', 'b', 'c']);
      assert.deepEqual(['a', 'b', 'c'].filter((a) => modeOf(engine, a) === 'RW'), c.rw);
      await waitFor(engine, () => ['a', 'b', 'c'].every((a) => modeOf(engine, a) === 'RW'));
      for (const a of ['b', 'c']) assert.deepEqual(cluster.storeOrThrow(a).read(0, 16384), cluster.storeOrThrow('a').read(0, 16384));
      await engine.close();
    });
  }

  const refusals = [
    { name: 'refuses to start when no replica answers', setup: (c: MemoryCluster) => ['a', 'b'].forEach((a) => c.down.add(a)), why: /a: replica a is unreachable.*ECONNREFUSED/ },
    { name: 'refuses to start when every replica was mid-rebuild', setup: (c: MemoryCluster) => ['a', 'b'].forEach((a) => (c.storeOrThrow(a).rebuilding = true)), why: /mid-rebuild/ },
  ];
  for (const c of refusals) {
    it(c.name, async () => {
      const cluster = new MemoryCluster(4 * MiB, ['a', 'b']);
      c.setup(cluster);
      const { log } = collectingLogger();
      await assert.rejects(openEngine({ volume: 'v', sizeBytes: 4 * MiB, connect: cluster.connect, log }, ['a', 'b']), (e: Error) => e instanceof EngineStartError && c.why.test(e.message));
    });
  }

  it('refuses a replica larger than the volume, naming both sizes (a smaller one grows: see expand.spec)', async () => {
    const cluster = new MemoryCluster(16 * MiB, ['a']);
    const { log } = collectingLogger();
    await assert.rejects(openEngine({ volume: 'v', sizeBytes: 8 * MiB, connect: cluster.connect, log }, ['a']), /its size is 16777216 bytes, larger than the volume's 8388608/);
    assert.equal(cluster.storeOrThrow('a').sizeBytes, 16 * MiB);
  });
});
