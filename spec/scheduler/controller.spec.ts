import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import type { Node } from '../../api/codecs/node.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import { API_VERSION } from '../../api/codecs/meta.ts';
import { createLogger } from '../../api/log.ts';
import { PlacementController } from '../../scheduler/controller.ts';
import fc from 'fast-check';
import { Gi, node, volume } from './builders.ts';

const quiet = createLogger('test', { sink: () => undefined });
let open: { store: EmbeddedStore; ctrl: PlacementController }[] = [];

afterEach(async () => {
  for (const o of open) {
    await o.ctrl.stop();
    o.store.close();
  }
  open = [];
});

async function putNode(store: EmbeddedStore, n: Node): Promise<void> {
  const created = await store.create('Node', n);
  await store.updateStatus('Node', { ...created, status: n.status });
}

async function setup(nodes: Node[], volumes: Volume[], settings: Record<string, string> = {}, opts: { concurrency?: number } = {}) {
  const store = EmbeddedStore.open({});
  for (const [name, value] of Object.entries(settings)) await store.create('Setting', { apiVersion: API_VERSION, kind: 'Setting', metadata: { name }, value });
  for (const n of nodes) await putNode(store, n);
  const clock = { now: Date.parse('2026-11-24T00:00:00Z') };
  let seq = 0;
  const ctrl = new PlacementController({ store, log: quiet, now: () => clock.now, randomHex: () => (seq++).toString(16).padStart(8, '0'), concurrency: opts.concurrency ?? 4 });
  await ctrl.start();
  for (const v of volumes) await store.create('Volume', v);
  await ctrl.idle();
  open.push({ store, ctrl });
  return { store, ctrl, clock };
}

async function replicasOf(store: EmbeddedStore, vol: string): Promise<Replica[]> {
  return (await store.list('Replica', { labelSelector: `shorthorn.io/volume=${vol}` })).items;
}

/** Plays the node agents and the engine: every live replica running, RW in the volume's engine. */
async function markHealthy(store: EmbeddedStore, vol: string): Promise<void> {
  const reps = (await replicasOf(store, vol)).filter((r) => (r.spec.failedAt ?? '') === '' && r.metadata.deletionTimestamp === undefined);
  for (const r of reps) if (r.status?.currentState !== 'running') await store.updateStatus('Replica', { ...r, status: { currentState: 'running' } });
  const v = await store.get('Volume', vol);
  await store.updateStatus('Volume', { ...v, status: { ...(v.status ?? {}), replicaModes: Object.fromEntries(reps.map((r) => [r.metadata.name, 'RW'])) } });
}

const where = (rs: Replica[]) => rs.map((r) => `${r.spec.nodeID}/${r.spec.diskID}`).sort();
const threeZones = () => ['a', 'b', 'c'].flatMap((z) => [node(`${z}1`, { zone: z }), node(`${z}2`, { zone: z })]);

describe('PlacementController', { timeout: 180_000 }, () => {
  it('creates the missing replicas with their placement fields and marks the volume Scheduled', async () => {
    const { store } = await setup(threeZones(), [volume('v1')]);
    const rs = await replicasOf(store, 'v1');
    assert.equal(rs.length, 3);
    assert.equal(new Set(rs.map((r) => r.spec.nodeID[0])).size, 3, 'one replica per zone');
    for (const r of rs) {
      assert.match(r.spec.dataDirectoryName, /^v1-[0-9a-f]{8}$/);
      assert.equal(r.spec.volumeSize, '10Gi');
      assert.equal(r.spec.desireState, 'running');
      assert.equal(r.spec.diskPath, '/data/d1');
      assert.equal(r.metadata.labels?.['shorthorn.io/volume'], 'v1');
    }
    const v = await store.get('Volume', 'v1');
    assert.deepEqual(v.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [['Scheduled', 'True', 'ReplicasScheduled']]);
  });

  it('says why in the Scheduled condition when replicas cannot be placed, and places what it can', async () => {
    const { store } = await setup([node('n1'), node('n2', { disks: [{ maxGi: 5 }] })], [volume('v1')]);
    assert.equal((await replicasOf(store, 'v1')).length, 1);
    const c = (await store.get('Volume', 'v1')).status?.conditions?.find((x) => x.type === 'Scheduled');
    assert.equal(c?.status, 'False');
    assert.equal(c?.reason, 'NodeAntiAffinity');
    assert.equal(c?.message, 'replica 2 of 3: 0/2 disks are available: 1 insufficient storage (need 10Gi, 5Gi schedulable under 100% over-provisioning), 1 node anti-affinity (node already holds a replica)');
  });

  it('places the rest when a node joins', async () => {
    const { store, ctrl } = await setup([node('n1'), node('n2')], [volume('v1')]);
    assert.equal((await replicasOf(store, 'v1')).length, 2);
    await putNode(store, node('n3'));
    await ctrl.idle();
    assert.deepEqual(where(await replicasOf(store, 'v1')), ['n1/d1', 'n2/d1', 'n3/d1']);
    assert.equal((await store.get('Volume', 'v1')).status?.conditions?.[0]?.status, 'True');
  });

  it('places a waiting volume when a disk reports more space (figures only)', async () => {
    const { store, ctrl } = await setup([node('n1', { disks: [{ maxGi: 5 }] })], [volume('v1', { numberOfReplicas: 1 })]);
    assert.equal((await replicasOf(store, 'v1')).length, 0);
    const n = await store.get('Node', 'n1');
    const grown = node('n1', { disks: [{ maxGi: 50 }] });
    await store.updateStatus('Node', { ...n, status: grown.status });
    await ctrl.idle();
    assert.deepEqual(where(await replicasOf(store, 'v1')), ['n1/d1']);
    assert.equal((await store.get('Volume', 'v1')).status?.conditions?.[0]?.status, 'True');
  });

  it('removes the replica whose loss costs least spread when numberOfReplicas drops', async () => {
    const nodes = [node('a1', { zone: 'a' }), node('a2', { zone: 'a' }), node('b1', { zone: 'b' })];
    const { store, ctrl } = await setup(nodes, [volume('v1')]);
    assert.equal((await replicasOf(store, 'v1')).length, 3);
    await markHealthy(store, 'v1');
    const v = await store.get('Volume', 'v1');
    await store.update('Volume', { ...v, spec: { ...v.spec, numberOfReplicas: 2 } });
    await ctrl.idle();
    const left = await replicasOf(store, 'v1');
    assert.equal(left.length, 2);
    assert.equal(new Set(left.map((r) => r.spec.nodeID[0])).size, 2, `both zones kept: ${where(left).join(', ')}`);
  });

  it('adds replicas when numberOfReplicas grows', async () => {
    const { store, ctrl } = await setup(threeZones(), [volume('v1', { numberOfReplicas: 1 })]);
    const v = await store.get('Volume', 'v1');
    await store.update('Volume', { ...v, spec: { ...v.spec, numberOfReplicas: 4 } });
    await ctrl.idle();
    assert.equal((await replicasOf(store, 'v1')).length, 4);
  });

  it('replaces a failed replica only after staleReplicaTimeout, then removes the stale one', async () => {
    const { store, ctrl, clock } = await setup([node('n1'), node('n2'), node('n3'), node('n4')], [volume('v1', { staleReplicaTimeout: 10 })]);
    const rs = await replicasOf(store, 'v1');
    const victim = rs[0] as Replica;
    // The node goes down and the agent marks the replica failed.
    const n = await store.get('Node', victim.spec.nodeID);
    await store.updateStatus('Node', { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    await store.patch('Replica', victim.metadata.name, { type: 'merge', value: { spec: { failedAt: new Date(clock.now).toISOString().replace(/\.\d{3}Z$/, 'Z') } } });
    await ctrl.idle();
    assert.equal((await replicasOf(store, 'v1')).length, 3, 'waits while the failed replica may come back');
    clock.now += 11 * 60_000;
    ctrl.resync();
    await ctrl.idle();
    const after = await replicasOf(store, 'v1');
    assert.equal(after.length, 3);
    assert.ok(!after.some((r) => r.metadata.name === victim.metadata.name), 'the stale replica is gone');
    assert.ok(!after.some((r) => r.spec.nodeID === victim.spec.nodeID), 'the replacement avoids the down node');
  });

  it('reuses a failed replica whose disk is back instead of building a new one', async () => {
    const { store, ctrl, clock } = await setup([node('n1'), node('n2'), node('n3'), node('n4')], [volume('v1')]);
    const victim = (await replicasOf(store, 'v1'))[0] as Replica;
    const n = await store.get('Node', victim.spec.nodeID);
    await store.updateStatus('Node', { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    await store.patch('Replica', victim.metadata.name, { type: 'merge', value: { spec: { failedAt: new Date(clock.now).toISOString().replace(/\.\d{3}Z$/, 'Z') } } });
    await ctrl.idle();
    const back = await store.get('Node', victim.spec.nodeID);
    await store.updateStatus('Node', { ...back, status: { ...back.status, conditions: [{ type: 'Ready', status: 'True' }] } });
    await ctrl.idle();
    const after = await replicasOf(store, 'v1');
    assert.equal(after.length, 3);
    assert.equal(after.find((r) => r.metadata.name === victim.metadata.name)?.spec.failedAt, '', 'failedAt cleared: the same replica serves again');
  });

  it('moves replicas off an evicted disk one at a time, removing the old one only once the new one is healthy', async () => {
    const { store, ctrl } = await setup([node('n1', { disks: [{}, {}] }), node('n2'), node('n3'), node('n4')], [volume('v1', { numberOfReplicas: 2, replicaSoftAntiAffinity: 'enabled' })]);
    await markHealthy(store, 'v1');
    await ctrl.idle();
    const before = await replicasOf(store, 'v1');
    const onN1 = before.find((r) => r.spec.nodeID === 'n1') ?? (before[0] as Replica);
    const n = await store.get('Node', onN1.spec.nodeID);
    const disks = { ...n.spec.disks };
    disks[onN1.spec.diskID] = { ...(disks[onN1.spec.diskID] as { path: string }), evictionRequested: true };
    await store.update('Node', { ...n, spec: { ...n.spec, disks } });
    await ctrl.idle();
    let now = await replicasOf(store, 'v1');
    assert.equal(now.length, 3, 'replacement created, old one kept');
    assert.ok(now.some((r) => r.metadata.name === onN1.metadata.name));
    await markHealthy(store, 'v1');
    await ctrl.idle();
    now = await replicasOf(store, 'v1');
    assert.equal(now.length, 2);
    assert.ok(!now.some((r) => r.metadata.name === onN1.metadata.name), 'the evicted replica is removed');
    assert.ok(!now.some((r) => r.spec.nodeID === onN1.spec.nodeID && r.spec.diskID === onN1.spec.diskID));
  });

  it('auto-balance least-effort: moves one replica to a new zone when a node joins', async () => {
    const { store, ctrl } = await setup([node('a1', { zone: 'a' }), node('a2', { zone: 'a' }), node('b1', { zone: 'b' })], [volume('v1')], { 'replica-auto-balance': 'least-effort' });
    await markHealthy(store, 'v1');
    await ctrl.idle();
    await putNode(store, node('c1', { zone: 'c' }));
    await ctrl.idle();
    let rs = await replicasOf(store, 'v1');
    assert.equal(rs.length, 4, 'the replacement in zone c is built first');
    await markHealthy(store, 'v1');
    await ctrl.idle();
    rs = await replicasOf(store, 'v1');
    assert.deepEqual(rs.map((r) => r.spec.nodeID[0]).sort(), ['a', 'b', 'c']);
  });

  it('auto-balance disabled: leaves replicas where they are', async () => {
    const { store, ctrl } = await setup([node('a1', { zone: 'a' }), node('a2', { zone: 'a' }), node('b1', { zone: 'b' })], [volume('v1')]);
    await markHealthy(store, 'v1');
    await ctrl.idle();
    const before = where(await replicasOf(store, 'v1'));
    await putNode(store, node('c1', { zone: 'c' }));
    await ctrl.idle();
    assert.deepEqual(where(await replicasOf(store, 'v1')), before);
  });

  it('never overcommits a disk when many volumes are placed concurrently', { timeout: 30_000 }, async () => {
    const nodes = Array.from({ length: 6 }, (_, i) => node(`n${i}`, { zone: `z${i % 3}`, disks: [{ maxGi: 35 }, { maxGi: 25 }] }));
    const vols = Array.from({ length: 40 }, (_, i) => volume(`v${i}`, { sizeGi: 5 + (i % 3) * 5 }));
    const { store, ctrl } = await setup(nodes, [], {}, { concurrency: 8 });
    await Promise.all(vols.map((v) => store.create('Volume', v)));
    await ctrl.idle();
    const all = (await store.list('Replica')).items;
    assert.ok(all.length > 20, `placed ${all.length}`);
    const used = new Map<string, number>();
    for (const r of all) used.set(`${r.spec.nodeID}/${r.spec.diskID}`, (used.get(`${r.spec.nodeID}/${r.spec.diskID}`) ?? 0) + Number(r.spec.volumeSize.replace('Gi', '')) * Gi);
    for (const n of nodes) for (const [d, st] of Object.entries(n.status?.diskStatus ?? {})) assert.ok((used.get(`${n.metadata.name}/${d}`) ?? 0) <= Number(st.storageMaximum), `${n.metadata.name}/${d} overcommitted`);
    for (const v of vols) {
      const mine = all.filter((r) => r.spec.volumeName === v.metadata.name);
      assert.equal(new Set(mine.map((r) => r.spec.nodeID)).size, mine.length, 'hard node anti-affinity kept');
    }
  });

  it('never overcommits a disk or breaks hard anti-affinity, over random clusters placed concurrently', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ zone: fc.constantFrom('a', 'b', 'c'), disks: fc.array(fc.constantFrom(20, 30, 45), { minLength: 1, maxLength: 2 }), evict: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ sizeGi: fc.constantFrom(5, 10, 15), replicas: fc.integer({ min: 1, max: 3 }), zoneHard: fc.boolean() }), { minLength: 1, maxLength: 25 }),
        async (ns, vs) => {
          const nodes = ns.map((n, i) => node(`n${i}`, { zone: n.zone, evictionRequested: n.evict && i > 0, disks: n.disks.map((maxGi) => ({ maxGi })) }));
          const { store, ctrl } = await setup(nodes, [], {}, { concurrency: 8 });
          await Promise.all(vs.map((v, i) => store.create('Volume', volume(`v${i}`, { sizeGi: v.sizeGi, numberOfReplicas: v.replicas, ...(v.zoneHard ? { replicaZoneSoftAntiAffinity: 'disabled' as const } : {}) }))));
          await ctrl.idle();
          const all = (await store.list('Replica')).items;
          const used = new Map<string, number>();
          for (const r of all) used.set(`${r.spec.nodeID}/${r.spec.diskID}`, (used.get(`${r.spec.nodeID}/${r.spec.diskID}`) ?? 0) + Number(r.spec.volumeSize.replace('Gi', '')) * Gi);
          for (const n of nodes) for (const [d, st] of Object.entries(n.status?.diskStatus ?? {})) assert.ok((used.get(`${n.metadata.name}/${d}`) ?? 0) <= Number(st.storageMaximum), `${n.metadata.name}/${d} overcommitted`);
          for (const [i, v] of vs.entries()) {
            const mine = all.filter((r) => r.spec.volumeName === `v${i}`);
            assert.ok(mine.length <= v.replicas);
            assert.equal(new Set(mine.map((r) => r.spec.nodeID)).size, mine.length, 'hard node anti-affinity kept');
            if (v.zoneHard) assert.equal(new Set(mine.map((r) => nodes.find((n) => n.metadata.name === r.spec.nodeID)?.metadata.labels?.['topology.kubernetes.io/zone'])).size, mine.length, 'hard zone anti-affinity kept');
            for (const r of mine) assert.ok(!ns[Number(r.spec.nodeID.slice(1))]?.evict || r.spec.nodeID === 'n0', 'nothing placed on an evicting node');
          }
        },
      ),
      { numRuns: 15, seed: 42 },
    );
  });
});
