import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { createControlApp } from '../../../engine/controller/control-api.ts';
import { memoryEngine, modeOf, pattern, waitFor } from './engine-fixture.ts';
import { MemoryStore } from '../../helpers/memory-replica.ts';

const MiB = 1 << 20;

describe('control API', () => {
  it('shows volume, size, and each replica with mode and revision', async () => {
    const { engine } = await memoryEngine(2);
    await engine.writeAt(0, pattern(8, 1));
    const res = await request(createControlApp(engine)).get('/v1/status').expect(200);
    assert.equal(res.body.volume, 'v1');
    assert.equal(res.body.sizeBytes, 8 * MiB);
    assert.deepEqual(
      res.body.replicas.map((r: { address: string; mode: string; revision: string }) => [r.address, r.mode, r.revision]),
      [
        ['r1', 'RW', '1'],
        ['r2', 'RW', '1'],
      ],
    );
    await engine.close();
  });

  it('shows a replica ERR with its cause as soon as it fails', async () => {
    const { cluster, engine } = await memoryEngine(2);
    const app = createControlApp(engine);
    const t0 = performance.now();
    cluster.connOrThrow('r2').disconnect('socket hang up');
    await waitFor(engine, () => modeOf(engine, 'r2') === 'ERR');
    const res = await request(app).get('/v1/status').expect(200);
    assert.ok(performance.now() - t0 < 1000);
    const r2 = res.body.replicas.find((r: { address: string }) => r.address === 'r2');
    assert.equal(r2.mode, 'ERR');
    assert.match(r2.cause, /replica r2: connection lost: socket hang up/);
    await engine.close();
  });

  it('adds a replica (202, rebuild kind) and reports its rebuild progress', async () => {
    const { cluster, engine } = await memoryEngine(1);
    await engine.writeAt(0, pattern(2048, 1));
    cluster.stores.set('r2', new MemoryStore(8 * MiB));
    const app = createControlApp(engine);
    const res = await request(app).post('/v1/replicas').send({ address: 'r2' }).expect(202);
    assert.deepEqual(res.body, { address: 'r2', rebuild: 'full' });
    await waitFor(engine, () => modeOf(engine, 'r2') === 'RW');
    const st = await request(app).get('/v1/status').expect(200);
    const r2 = st.body.replicas.find((r: { address: string }) => r.address === 'r2');
    assert.equal(r2.rebuild.doneBytes, MiB);
    assert.equal(r2.rebuild.totalBytes, MiB);
    assert.equal(r2.rebuild.finished, true);
    await engine.close();
  });

  const errors = [
    { name: 'a body without an address is 400', req: (a: request.Agent) => a.post('/v1/replicas').send({ addr: 'x' }), status: 400, msg: /address/ },
    { name: 'malformed JSON is 400', req: (a: request.Agent) => a.post('/v1/replicas').set('content-type', 'application/json').send('{"address":'), status: 400, msg: /JSON|Unexpected/ },
    { name: 'adding a replica already RW is 409', req: (a: request.Agent) => a.post('/v1/replicas').send({ address: 'r1' }), status: 409, msg: /already in the set/ },
    { name: 'adding an unreachable replica is 502', req: (a: request.Agent) => a.post('/v1/replicas').send({ address: 'nowhere' }), status: 502, msg: /unreachable/ },
    { name: 'removing an unknown replica is 404', req: (a: request.Agent) => a.delete('/v1/replicas/zz'), status: 404, msg: /not in the set/ },
    { name: 'removing the last RW replica is 409', req: (a: request.Agent) => a.delete('/v1/replicas/r1'), status: 409, msg: /last healthy replica/ },
    { name: 'an expand without sizeBytes is 400', req: (a: request.Agent) => a.post('/v1/expand').send({ size: '16Mi' }), status: 400, msg: /sizeBytes/ },
    { name: 'an expand that would shrink is 422', req: (a: request.Agent) => a.post('/v1/expand').send({ sizeBytes: 4 * MiB }), status: 422, msg: /cannot shrink from 8388608 to 4194304 bytes/ },
    { name: 'an expand to a size not a multiple of 512 is 422', req: (a: request.Agent) => a.post('/v1/expand').send({ sizeBytes: 9 * MiB + 1 }), status: 422, msg: /multiple of 512/ },
  ];
  for (const c of errors) {
    it(c.name, async () => {
      const { engine } = await memoryEngine(1);
      const res = await c.req(request.agent(createControlApp(engine))).expect(c.status);
      assert.match(res.body.error, c.msg);
      await engine.close();
    });
  }

  it('expands the volume (200 with the new size) and the status shows it', async (t) => {
    const { cluster, engine } = await memoryEngine(2);
    t.after(() => engine.close());
    const app = createControlApp(engine);
    const res = await request(app).post('/v1/expand').send({ sizeBytes: 32 * MiB }).expect(200);
    assert.deepEqual(res.body, { sizeBytes: 32 * MiB });
    assert.equal((await request(app).get('/v1/status').expect(200)).body.sizeBytes, 32 * MiB);
    assert.equal(cluster.storeOrThrow('r2').sizeBytes, 32 * MiB);
  });

  it('answers 503 naming the cause when no replica could grow, and keeps the size', async (t) => {
    const { cluster, engine } = await memoryEngine(1);
    t.after(() => engine.close());
    cluster.connOrThrow('r1').faults = { fail: { ops: ['expand'], error: Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }) } };
    const res = await request(createControlApp(engine)).post('/v1/expand').send({ sizeBytes: 32 * MiB }).expect(503);
    assert.match(res.body.error, /^volume v1: cannot expand to 33554432 bytes: no space left on any replica \(replica r1\)/);
    assert.equal(engine.sizeBytes, 8 * MiB);
  });

  it('removes a replica (204) and the set no longer lists it', async () => {
    const { engine } = await memoryEngine(2);
    const app = createControlApp(engine);
    await request(app).delete('/v1/replicas/r2').expect(204);
    const st = await request(app).get('/v1/status').expect(200);
    assert.deepEqual(
      st.body.replicas.map((r: { address: string }) => r.address),
      ['r1'],
    );
    await engine.close();
  });

  it('serves Prometheus metrics with per-replica counts, bytes and latency histograms', async (t) => {
    const { engine } = await memoryEngine(2);
    t.after(() => engine.close());
    await engine.writeAt(0, pattern(8, 1));
    await engine.readAt(0, 4096);
    const res = await request(createControlApp(engine)).get('/metrics').expect(200);
    assert.match(res.headers['content-type'] ?? '', /text\/plain/);
    assert.match(res.text, /^# TYPE shorthorn_engine_replica_io_total counter$/m);
    assert.match(res.text, /^shorthorn_engine_replica_io_total\{volume="v1",replica="r1",op="write"\} 1$/m);
    assert.match(res.text, /^shorthorn_engine_replica_io_bytes_total\{volume="v1",replica="r2",op="write"\} 4096$/m);
    assert.match(res.text, /^shorthorn_engine_replica_io_errors_total\{volume="v1",replica="r2",op="write"\} 0$/m);
    assert.match(res.text, /^# TYPE shorthorn_engine_replica_io_seconds histogram$/m);
    // One read went to one of the two replicas.
    const reads = [...res.text.matchAll(/^shorthorn_engine_replica_io_seconds_count\{volume="v1",replica="r[12]",op="read"\} (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(reads, [1]);
    // Buckets are cumulative and end at +Inf with the count; an in-memory write takes under 10 s.
    const buckets = [...res.text.matchAll(/^shorthorn_engine_replica_io_seconds_bucket\{volume="v1",replica="r1",op="write",le="([^"]+)"\} (\d+)$/gm)];
    assert.equal(buckets.length, 17);
    assert.equal(buckets[15]?.[1], '10');
    assert.equal(buckets[15]?.[2], '1');
    assert.deepEqual(buckets[16]?.slice(1), ['+Inf', '1']);
    for (let i = 1; i < buckets.length; i++) assert.ok(Number(buckets[i]?.[2]) >= Number(buckets[i - 1]?.[2]));
    assert.match(res.text, /^shorthorn_engine_replica_io_seconds_sum\{volume="v1",replica="r1",op="write"\} [0-9.e-]+$/m);
    assert.match(res.text, /^shorthorn_engine_replica_mode\{replica="r1",mode="RW",volume="v1"\} 1$/m);
  });
});
