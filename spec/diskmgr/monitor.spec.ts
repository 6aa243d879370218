import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { API_VERSION, type Condition } from '../../api/codecs/meta.ts';
import type { Node } from '../../api/codecs/node.ts';
import { createLogger } from '../../api/log.ts';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import { IDENTITY_FILE } from '../../diskmgr/identity.ts';
import { startDiskMonitor, type DiskMonitor } from '../../diskmgr/monitor.ts';
import { ensureNode } from '../../diskmgr/report.ts';
import type { ProbeIo } from '../../diskmgr/health.ts';
import { realProbeIo } from '../../diskmgr/health.ts';
import { createReplica } from '../helpers/instance-objects.ts';
import { waitForObject } from '../helpers/wait-for-object.ts';

const root = mkdtempSync(join(tmpdir(), 'shorthorn-monitor-'));
after(() => rmSync(root, { recursive: true, force: true }));
const log = createLogger('test', { sink: () => undefined });
const cond = (n: Node, disk: string, type: string) => n.status?.diskStatus?.[disk]?.conditions?.find((c: Condition) => c.type === type);

async function setup(name: string, opts: { probeIo?: ProbeIo; intervalMs?: number; probeTimeoutMs?: number } = {}) {
  const store = EmbeddedStore.open({});
  const disk = join(root, name);
  mkdirSync(disk);
  await ensureNode(store, 'n1', { d1: { path: disk } });
  const mon = startDiskMonitor({ store, node: 'n1', log, intervalMs: opts.intervalMs ?? 100, probeTimeoutMs: opts.probeTimeoutMs ?? 80, ...(opts.probeIo ? { probeIo: opts.probeIo } : {}) });
  return { store, disk, mon };
}
async function teardown(store: EmbeddedStore, mon: DiskMonitor) {
  await mon.stop();
  store.close();
}

describe('disk monitor', () => {
  it('reports identity, capacity, scheduled replicas and Ready/Schedulable conditions into Node.status', async () => {
    const { store, disk, mon } = await setup('report');
    await createReplica(store, 'r1', { volume: 'v1', size: '1Mi', node: 'n1', diskPath: disk });
    await createReplica(store, 'r2', { volume: 'v2', size: '2Mi', node: 'n1', diskPath: disk });
    await createReplica(store, 'r3', { volume: 'v3', size: '4Mi', node: 'n2', diskPath: disk });
    await store.patch('Node', 'n1', { type: 'merge', value: { metadata: { labels: { 'topology.kubernetes.io/zone': 'z1' } } } });
    const n = await waitForObject(store, 'Node', 'n1', (o) => o.status?.diskStatus?.d1?.storageScheduled === String(3 * 1024 * 1024) && o.status?.zone === 'z1');
    const d = n.status?.diskStatus?.d1;
    assert.match(d?.diskUUID ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(d?.diskPath, disk);
    assert.ok(Number(d?.storageMaximum) > 0 && Number(d?.storageAvailable) > 0);
    assert.deepEqual(d?.scheduledReplica, { r1: String(1024 * 1024), r2: String(2 * 1024 * 1024) });
    assert.equal(cond(n, 'd1', 'Ready')?.status, 'True');
    assert.deepEqual(n.status?.conditions?.map((c: Condition) => [c.type, c.status]), [['Ready', 'True'], ['Schedulable', 'True']]);
    await teardown(store, mon);
  });

  it('writes only its own fields of Node.status: the heartbeat and agentState survive every pass, a removed zone label goes', async () => {
    const { store, mon } = await setup('owned', { intervalMs: 50 });
    try {
      await store.patch('Node', 'n1', { type: 'merge', value: { metadata: { labels: { 'topology.kubernetes.io/zone': 'z1' } } } });
      await waitForObject(store, 'Node', 'n1', (o) => o.status?.zone === 'z1');
      await store.patch('Node', 'n1', { type: 'merge', value: { status: { lastHeartbeatTime: '2026-11-25T03:00:00Z', agentState: 'running' } } }, { subresource: 'status' });
      await mon.runOnce();
      await mon.runOnce();
      const n = await store.get('Node', 'n1');
      assert.equal(n.status?.lastHeartbeatTime, '2026-11-25T03:00:00Z', 'the heartbeat (the agent\'s) is kept');
      assert.equal(n.status?.agentState, 'running', 'agentState (the liveness loop\'s) is kept');
      await store.patch('Node', 'n1', { type: 'json', ops: [{ op: 'remove', path: '/metadata/labels/topology.kubernetes.io~1zone' }] });
      await mon.runOnce();
      const m = await store.get('Node', 'n1');
      assert.equal(m.status?.zone, undefined, 'the zone goes with its label');
      assert.equal(m.status?.lastHeartbeatTime, '2026-11-25T03:00:00Z');
    } finally {
      await teardown(store, mon);
    }
  });

  it('turns a disk that stops answering not Ready within one probe interval', async () => {
    let hang = false;
    const io: ProbeIo = { writeSyncRead: (f, b) => (hang ? new Promise(() => undefined) : realProbeIo.writeSyncRead(f, b)) };
    const { store, mon } = await setup('hang', { probeIo: io, intervalMs: 200, probeTimeoutMs: 100 });
    await waitForObject(store, 'Node', 'n1', (o) => cond(o, 'd1', 'Ready')?.status === 'True');
    hang = true;
    const started = Date.now();
    const n = await waitForObject(store, 'Node', 'n1', (o) => cond(o, 'd1', 'Ready')?.status === 'False');
    // One interval (200 ms) plus the probe timeout (100 ms) at most, with slack for a loaded machine.
    assert.ok(Date.now() - started < 200 + 100 + 400, `took ${Date.now() - started} ms`);
    assert.equal(cond(n, 'd1', 'Ready')?.reason, 'DiskUnhealthy');
    assert.match(cond(n, 'd1', 'Ready')?.message ?? '', /did not answer/);
    hang = false;
    await teardown(store, mon);
  });

  it('reports replicas on a vanished disk as failed and the disk as not Ready', async () => {
    const { store, disk, mon } = await setup('vanish');
    await createReplica(store, 'r1', { volume: 'v1', node: 'n1', diskPath: disk });
    await waitForObject(store, 'Node', 'n1', (o) => cond(o, 'd1', 'Ready')?.status === 'True' && o.status?.diskStatus?.d1?.scheduledReplica?.r1 !== undefined);
    rmSync(disk, { recursive: true });
    const n = await waitForObject(store, 'Node', 'n1', (o) => cond(o, 'd1', 'Ready')?.status === 'False');
    assert.equal(cond(n, 'd1', 'Schedulable')?.status, 'False');
    const r = await waitForObject(store, 'Replica', 'r1', (o) => (o.spec.failedAt ?? '') !== '');
    assert.match(r.spec.failedAt ?? '', /^\d{4}-/);
    assert.equal(mon.diskOf(r)?.ready, false);
    await teardown(store, mon);
  });

  it('reports a disk whose UUID changed as DiskFilesystemChanged and keeps the old UUID', async () => {
    const { store, disk, mon } = await setup('changed');
    const first = await waitForObject(store, 'Node', 'n1', (o) => o.status?.diskStatus?.d1?.diskUUID !== undefined);
    writeFileSync(join(disk, IDENTITY_FILE), JSON.stringify({ diskUUID: '00000000-0000-4000-8000-000000000009' }));
    const n = await waitForObject(store, 'Node', 'n1', (o) => cond(o, 'd1', 'Ready')?.reason === 'DiskFilesystemChanged');
    assert.equal(n.status?.diskStatus?.d1?.diskUUID, first.status?.diskStatus?.d1?.diskUUID);
    await teardown(store, mon);
  });

  it('reports DiskPressure when the minimal-available setting exceeds free space', async () => {
    const { store, mon } = await setup('pressure');
    await store.create('Setting', { apiVersion: API_VERSION, kind: 'Setting', metadata: { name: 'storage-minimal-available-percentage' }, value: '100' });
    const n = await waitForObject(store, 'Node', 'n1', (o) => cond(o, 'd1', 'Schedulable')?.reason === 'DiskPressure');
    assert.equal(cond(n, 'd1', 'Ready')?.status, 'True');
    await teardown(store, mon);
  });
});
