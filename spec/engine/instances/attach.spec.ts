import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import type { Admission } from '../../../api/store/port.ts';
import { createAdmission } from '../../../webhooks/index.ts';
import { readProcStat } from '../../../engine/instances/process.ts';
import { replicaDataDir } from '../../../engine/instances/replicas.ts';
import { startVolumeLifecycle } from '../../../engine/instances/volume-lifecycle.ts';
import { AgentCluster, testLogger } from '../../helpers/agent-fixture.ts';
import { createReplica, createVolume } from '../../helpers/instance-objects.ts';
import { waitForGone, waitForObject } from '../../helpers/wait-for-object.ts';

const NODES = ['n1', 'n2', 'n3'];

describe('volume attach, degrade, heal, detach and delete (fake shorthorn children)', { timeout: 90_000 }, () => {
  // With the admission chain, as dev up runs it: every write the agents make must pass it.
  let chain: Admission | undefined;
  const store = EmbeddedStore.open({ admission: (req) => (chain as Admission)(req) });
  chain = createAdmission({ store, log: testLogger('admission') });
  const cluster = new AgentCluster(store);
  let lifecycle: { stop(): Promise<void> };
  before(async () => {
    for (const n of NODES) await cluster.start(n);
    lifecycle = startVolumeLifecycle({ store, log: testLogger('lifecycle'), resyncMs: 300 });
  });
  after(async () => {
    await lifecycle.stop();
    await cluster.close();
    store.close();
  });

  it('a volume goes from creating to detached and healthy once its replicas run', async () => {
    await createVolume(store, 'v1', { replicas: 3 });
    const first = await waitForObject(store, 'Volume', 'v1', (v) => v.status?.state !== undefined);
    assert.equal(first.status?.state, 'creating');
    for (const [i, n] of NODES.entries()) await createReplica(store, `v1-r${i}`, { volume: 'v1', node: n, diskPath: cluster.diskPath(n) });
    const v = await waitForObject(store, 'Volume', 'v1', (o) => o.status?.state === 'detached');
    assert.equal(v.status?.robustness, 'healthy');
  });

  it('attaching starts the engine on the node and publishes the endpoint', async () => {
    await store.patch('Volume', 'v1', { type: 'merge', value: { spec: { nodeID: 'n1' } } });
    const v = await waitForObject(store, 'Volume', 'v1', (o) => o.status?.state === 'attached');
    assert.equal(v.status?.robustness, 'healthy');
    assert.equal(v.status?.currentNodeID, 'n1');
    assert.match(v.status?.endpoint?.portal ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(v.status?.endpoint?.iqn, 'iqn.2026-11.io.shorthorn:v1');
    assert.equal(v.status?.endpoint?.url, `iscsi://${v.status?.endpoint?.portal}/iqn.2026-11.io.shorthorn:v1/0`);
    assert.deepEqual(v.status?.replicaModes, { 'v1-r0': 'RW', 'v1-r1': 'RW', 'v1-r2': 'RW' });
    const e = await store.get('Engine', 'v1-e-0');
    assert.equal(e.spec.nodeID, 'n1');
    assert.deepEqual(Object.keys(e.spec.replicaAddressMap).sort(), ['v1-r0', 'v1-r1', 'v1-r2']);
  });

  it('a SIGKILLed replica makes the volume degraded, then it is restarted, re-added and healthy again', async () => {
    const r = await store.get('Replica', 'v1-r1');
    process.kill(r.status?.pid as number, 'SIGKILL');
    const degraded = await waitForObject(store, 'Volume', 'v1', (o) => o.status?.robustness === 'degraded');
    assert.equal(degraded.status?.state, 'attached');
    assert.match(degraded.status?.lastDegradedAt ?? '', /^\d{4}-/);
    const failed = await waitForObject(store, 'Replica', 'v1-r1', (o) => (o.spec.failedAt ?? '') !== '');
    assert.ok(failed.spec.failedAt);
    const healthy = await waitForObject(store, 'Volume', 'v1', (o) => o.status?.robustness === 'healthy');
    assert.deepEqual(healthy.status?.replicaModes, { 'v1-r0': 'RW', 'v1-r1': 'RW', 'v1-r2': 'RW' });
    const back = await waitForObject(store, 'Replica', 'v1-r1', (o) => (o.spec.failedAt ?? '') === '' && (o.spec.healthyAt ?? '') !== '');
    assert.notEqual(back.status?.address, r.status?.address);
  });

  it('a new replica joins the running engine and a deleted one leaves it (replacement, eviction)', async () => {
    await createReplica(store, 'v1-r3', { volume: 'v1', node: 'n3', diskPath: cluster.diskPath('n3') });
    await waitForObject(store, 'Volume', 'v1', (o) => o.status?.replicaModes?.['v1-r3'] === 'RW');
    await store.delete('Replica', 'v1-r0');
    const v = await waitForObject(store, 'Volume', 'v1', (o) => o.status?.replicaModes?.['v1-r0'] === undefined);
    assert.deepEqual(v.status?.replicaModes, { 'v1-r1': 'RW', 'v1-r2': 'RW', 'v1-r3': 'RW' });
    assert.equal(v.status?.robustness, 'healthy');
    await waitForGone(store, 'Replica', 'v1-r0');
    const e = await store.get('Engine', 'v1-e-0');
    assert.deepEqual(Object.keys(e.spec.replicaAddressMap).sort(), ['v1-r1', 'v1-r2', 'v1-r3']);
  });

  it('detaching and at once attaching to another node: the first engine stops before the second starts', async () => {
    const before = await store.get('Engine', 'v1-e-0');
    await store.patch('Volume', 'v1', { type: 'merge', value: { spec: { nodeID: '' } } });
    await store.patch('Volume', 'v1', { type: 'merge', value: { spec: { nodeID: 'n2' } } });
    const v = await waitForObject(store, 'Volume', 'v1', (o) => o.status?.state === 'attached' && o.status?.currentNodeID === 'n2');
    const port = Number(v.status?.endpoint?.portal?.split(':')[1]);
    const [lo, hi] = cluster.portRangeOf('n2');
    assert.ok(port >= lo && port <= hi, `portal ${v.status?.endpoint?.portal} is in n2's range`);
    const st = await readProcStat(before.status?.pid as number);
    assert.ok(st === undefined || st.state === 'Z', 'the engine on n1 was stopped');
    assert.equal((await store.get('Engine', 'v1-e-0')).spec.nodeID, 'n2');
  });

  it('detaching stops the engine and deletes its Engine object', async () => {
    const e = await store.get('Engine', 'v1-e-0');
    const pid = e.status?.pid as number;
    await store.patch('Volume', 'v1', { type: 'merge', value: { spec: { nodeID: '' } } });
    await waitForGone(store, 'Engine', 'v1-e-0');
    const v = await waitForObject(store, 'Volume', 'v1', (o) => o.status?.state === 'detached');
    assert.equal(v.status?.endpoint, undefined);
    const st = await readProcStat(pid);
    assert.ok(st === undefined || st.state === 'Z');
  });

  it('deleting the volume deletes its replicas and their data, then the volume', async () => {
    const dirs = (await store.list('Replica')).items.map((r) => replicaDataDir(r));
    assert.ok(dirs.every((d) => existsSync(d)));
    await store.delete('Volume', 'v1');
    await waitForGone(store, 'Volume', 'v1', 20_000);
    assert.deepEqual((await store.list('Replica')).items, []);
    assert.ok(dirs.every((d) => !existsSync(d)));
  });
});
