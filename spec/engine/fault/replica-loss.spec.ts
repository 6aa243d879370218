import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as E from 'fp-ts/Either';
import type { Engine } from '../../../engine/controller/engine.ts';
import { addReplica } from '../../../engine/controller/membership.ts';
import { Cluster, type ReplicaProcess } from './harness.ts';
import { PatternLoad, readAll } from './load.ts';
import { stampSectors } from './sector-pattern.ts';

/**
 * Real replica processes, an in-process engine over the real wire, real SIGKILL and SIGSTOP.
 */

const MiB = 1 << 20;
const SIZE = 64 * MiB;

function until(engine: Engine, pred: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (pred()) return resolve();
    const check = () => {
      if (!pred()) return;
      engine.events.off('mode', check);
      resolve();
    };
    engine.events.on('mode', check);
  });
}

async function prefill(engine: Engine): Promise<void> {
  for (let o = 0; o < SIZE; o += MiB) await engine.writeAt(o, stampSectors(o / 512, 2048, 0));
  await engine.flush();
}

/** The model after `prefill`: every block at generation 0. */
function prefilled(load: PatternLoad): PatternLoad {
  for (let b = 0; b < load.blocks; b++) load.model.set(b, 0);
  return load;
}

async function assertReplicasMatch(cluster: Cluster, replicas: readonly ReplicaProcess[], load: PatternLoad): Promise<void> {
  const images = await Promise.all(replicas.map((r) => cluster.contents(r)));
  const [first, ...rest] = images;
  for (const [i, img] of rest.entries()) {
    assert.ok(img.data.equals(first!.data), `replica ${replicas[i + 1]!.address} differs from ${replicas[0]!.address}`);
    assert.equal(img.allocated, first!.allocated, `replica ${replicas[i + 1]!.address} allocation differs`);
  }
  assert.deepEqual(load.verify(first!.data), []);
}

describe('a replica SIGKILLed during a write load (3 replicas)', { timeout: 90_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.create(SIZE);
  });
  after(async () => cluster.cleanup());

  it('the load sees no error, the replica goes ERR, comes back by delta rebuild, and all replicas match', async () => {
    const [r1, r2, r3] = await cluster.addReplicas(3);
    const engine = await cluster.engine([r1!, r2!, r3!]);
    await prefill(engine);
    // The load stays in the first 8 MiB, so what r3 misses is a small part of the volume.
    const load = prefilled(new PatternLoad(engine, 2048, 8, 1)).start();
    await load.more(200);
    await r3!.kill('SIGKILL');
    await until(engine, () => engine.find(r3!.address)?.mode === 'ERR');
    assert.match(engine.find(r3!.address)?.cause?.message ?? '', /connection|ECONNRESET|closed|timed out/i);
    await load.more(300);
    await r3!.start();
    const add = await addReplica(engine, r3!.address);
    assert.ok(E.isRight(add), E.isLeft(add) ? add.left._tag : '');
    assert.equal(add.right.kind, 'delta');
    await add.right.done;
    assert.equal(engine.find(r3!.address)?.mode, 'RW');
    const copied = engine.find(r3!.address)?.rebuild?.totalBytes ?? Infinity;
    assert.ok(copied <= 8 * MiB, `delta rebuild copied ${copied} bytes`);
    await load.more(100);
    await load.stop();
    assert.deepEqual(load.errors, []);
    assert.deepEqual(load.verify(await readAll(engine)).slice(0, 3), []);
    await engine.flush();
    await assertReplicasMatch(cluster, [r1!, r2!, r3!], load);
  });
});

describe('full rebuild onto an empty replica under a write load', { timeout: 90_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.create(SIZE);
  });
  after(async () => cluster.cleanup());

  it('copies while writes land on the same blocks; all three replicas match', async () => {
    const [r1, r2] = await cluster.addReplicas(2);
    const engine = await cluster.engine([r1!, r2!]);
    await prefill(engine);
    const [r3] = await cluster.addReplicas(1);
    const load = prefilled(new PatternLoad(engine, SIZE / 4096, 8, 1)).start();
    await load.more(50);
    const add = await addReplica(engine, r3!.address);
    assert.ok(E.isRight(add));
    assert.equal(add.right.kind, 'full');
    await add.right.done;
    const p = engine.find(r3!.address)?.rebuild;
    assert.equal(p?.doneBytes, SIZE);
    await load.stop();
    assert.deepEqual(load.errors, []);
    await engine.flush();
    await assertReplicasMatch(cluster, [r1!, r2!, r3!], load);
  });
});

describe('all replicas lost', { timeout: 90_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.create(SIZE);
  });
  after(async () => cluster.cleanup());

  it('I/O fails within the timeout when every replica hangs, and a restart picks the highest revision', async () => {
    const [r1, r2] = await cluster.addReplicas(2);
    const engine = await cluster.engine([r1!, r2!], { timeoutMs: 1500 });
    await engine.writeAt(0, stampSectors(0, 8, 1));
    await engine.flush();
    await r2!.kill('SIGKILL');
    await until(engine, () => engine.find(r2!.address)?.mode === 'ERR');
    // r1 moves ahead alone: its revision is now the highest.
    await engine.writeAt(0, stampSectors(0, 8, 2));
    await engine.writeAt(MiB, stampSectors(2048, 8, 2));
    await engine.flush();
    r1!.child!.proc.kill('SIGSTOP');
    const t0 = performance.now();
    await assert.rejects(engine.writeAt(4096, stampSectors(8, 8, 3)), (e: Error & { code?: string }) => e.code === 'EIO');
    const ms = performance.now() - t0;
    assert.ok(ms < 1500 + 1000, `failed after ${ms} ms`);
    await assert.rejects(engine.readAt(0, 4096), (e: Error & { code?: string }) => e.code === 'EIO');
    await engine.close();
    await r1!.kill('SIGKILL');
    await Promise.all([r1!.start(), r2!.start()]);
    const again = await cluster.engine([r1!, r2!]);
    assert.equal(again.find(r1!.address)?.mode, 'RW');
    assert.equal(again.find(r2!.address)?.mode, 'WO');
    await until(again, () => again.find(r2!.address)?.mode === 'RW');
    const want = new PatternLoad(again, 1);
    want.model.set(0, 2);
    const images = await Promise.all([r1!, r2!].map((r) => cluster.contents(r)));
    for (const img of images) {
      assert.deepEqual(want.verify(img.data.subarray(0, 4096)), []);
      assert.ok(img.data.subarray(MiB, MiB + 4096).equals(stampSectors(2048, 8, 2)));
    }
  });
});
