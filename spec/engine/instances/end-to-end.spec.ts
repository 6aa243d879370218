import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import type { Admission } from '../../../api/store/port.ts';
import { defaultShorthornBin } from '../../../engine/instances/agent.ts';
import { replicaDataDir } from '../../../engine/instances/replicas.ts';
import { startVolumeLifecycle } from '../../../engine/instances/volume-lifecycle.ts';
import { PlacementController } from '../../../scheduler/controller.ts';
import { createAdmission } from '../../../webhooks/index.ts';
import { AgentCluster, testLogger } from '../../helpers/agent-fixture.ts';
import { createVolume } from '../../helpers/instance-objects.ts';
import { waitForGone, waitForObject } from '../../helpers/wait-for-object.ts';

const run = promisify(execFile);
const NODES = ['n1', 'n2', 'n3'];

/** qemu-io against the volume's iSCSI URL (a real initiator: libiscsi inside qemu). */
async function qemuIo(url: string, cmd: string): Promise<string> {
  const r = await run('qemu-io', ['-f', 'raw', '-c', cmd, url], { timeout: 60_000 });
  return r.stdout + r.stderr;
}

describe('end to end with the real replica and engine processes', { timeout: 180_000 }, () => {
  let chain: Admission | undefined;
  const store = EmbeddedStore.open({ admission: (req) => (chain as Admission)(req) });
  chain = createAdmission({ store, log: testLogger('admission') });
  const cluster = new AgentCluster(store, defaultShorthornBin());
  const placement = new PlacementController({ store, log: testLogger('placement'), resyncMs: 1000 });
  let lifecycle: { stop(): Promise<void> };
  let url = '';
  before(async () => {
    for (const n of NODES) await cluster.start(n, { startWaitMs: 20_000 });
    await placement.start();
    lifecycle = startVolumeLifecycle({ store, log: testLogger('lifecycle'), resyncMs: 500 });
  });
  after(async () => {
    await lifecycle.stop();
    await placement.stop();
    await cluster.close();
    store.close();
  });

  it('placement puts 3 replicas on 3 nodes, the agents run them, and the volume is detached and healthy', async () => {
    await createVolume(store, 'e2e', { size: '64Mi', replicas: 3 });
    const v = await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.state === 'detached' && o.status?.robustness === 'healthy', 60_000);
    assert.equal(v.status?.robustness, 'healthy');
    const replicas = (await store.list('Replica')).items;
    assert.deepEqual(replicas.map((r) => r.spec.nodeID).sort(), NODES);
    for (const r of replicas) assert.ok(existsSync(replicaDataDir(r)), replicaDataDir(r));
  });

  it('attaching to n1 starts the engine; a real initiator writes through its iSCSI target', async () => {
    await store.patch('Volume', 'e2e', { type: 'merge', value: { spec: { nodeID: 'n1' } } });
    const v = await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.state === 'attached', 60_000);
    url = v.status?.endpoint?.url ?? '';
    assert.match(url, /^iscsi:\/\/127\.0\.0\.1:\d+\/iqn\.2026-11\.io\.shorthorn:e2e\/0$/);
    assert.equal(v.status?.robustness, 'healthy');
    assert.match(await qemuIo(url, 'write -P 0x5a 0 4M'), /wrote 4194304\/4194304 bytes/);
  });

  it('a SIGKILLed replica degrades the volume, is restarted and rebuilt, and the volume heals by itself', async () => {
    const r = (await store.list('Replica')).items.find((x) => x.spec.nodeID === 'n2');
    assert.ok(r?.status?.pid);
    process.kill(r.status.pid, 'SIGKILL');
    // Writes go on while it is away.
    assert.match(await qemuIo(url, 'write -P 0xa5 4M 4M'), /wrote 4194304\/4194304 bytes/);
    await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.robustness === 'degraded', 30_000);
    const healed = await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.robustness === 'healthy', 60_000);
    assert.deepEqual(Object.values(healed.status?.replicaModes ?? {}), ['RW', 'RW', 'RW']);
    const out = await qemuIo(url, 'read -P 0x5a 0 4M');
    assert.match(out, /read 4194304\/4194304 bytes/);
    assert.doesNotMatch(out, /Pattern verification failed/);
    assert.doesNotMatch(await qemuIo(url, 'read -P 0xa5 4M 4M'), /Pattern verification failed/);
  });

  it('growing spec.size expands the attached volume online: replicas and engine follow, the initiator sees the new capacity and the new blocks', async () => {
    // A replica down at the moment grows when its agent restarts it (--allow-grow) or when it rejoins.
    const r3 = (await store.list('Replica')).items.find((x) => x.spec.nodeID === 'n3');
    assert.ok(r3?.status?.pid);
    process.kill(r3.status.pid, 'SIGKILL');
    await store.patch('Volume', 'e2e', { type: 'merge', value: { spec: { size: '96Mi' } } });
    await waitForObject(store, 'Engine', 'e2e-e-0', (e) => e.spec.volumeSize === '96Mi', 60_000);
    for (const r of (await store.list('Replica')).items) assert.equal(r.spec.volumeSize, '96Mi', r.metadata.name);
    const cap = await run('iscsi-readcapacity16', [url], { timeout: 30_000 });
    assert.match(cap.stdout, /Total size:\s*100663296\b/);
    assert.match(await qemuIo(url, 'write -P 0x3c 90M 4M'), /wrote 4194304\/4194304 bytes/);
    // The killed replica is restarted (a new pid) at the new size, rebuilt, and healthy again.
    const back = await waitForObject(store, 'Replica', r3.metadata.name, (o) => o.status?.currentState === 'running' && o.status?.pid !== r3.status?.pid, 60_000);
    // RW in the engine at its new address: it joined (and was grown to the volume's size when it did, if not at open).
    await waitForObject(store, 'Engine', 'e2e-e-0', (e) => e.spec.replicaAddressMap[r3.metadata.name] === back.status?.address && e.status?.replicaModeMap?.[r3.metadata.name] === 'RW', 60_000);
    const meta = JSON.parse(await readFile(join(replicaDataDir(back), 'volume.json'), 'utf8')) as { sizeBytes: number };
    assert.equal(meta.sizeBytes, 100663296);
    const healed = await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.robustness === 'healthy' && Object.values(o.status?.replicaModes ?? {}).every((m) => m === 'RW'), 60_000);
    assert.deepEqual(Object.values(healed.status?.replicaModes ?? {}), ['RW', 'RW', 'RW']);
    for (const [cmd, want] of [['read -P 0x3c 90M 4M', 4194304], ['read -P 0x5a 0 4M', 4194304], ['read -P 0 64M 4M', 4194304]] as const) {
      const out = await qemuIo(url, cmd);
      assert.match(out, new RegExp(`read ${want}/${want} bytes`), cmd);
      assert.doesNotMatch(out, /Pattern verification failed/, cmd);
    }
  });

  it('restarting the agent of the attach node adopts its engine and replica: same pids, data still served', async () => {
    const engineBefore = await store.get('Engine', 'e2e-e-0');
    const replicaBefore = (await store.list('Replica')).items.find((x) => x.spec.nodeID === 'n1');
    await cluster.agents.get('n1')?.stop();
    // No agent on n1 now: the volume keeps serving.
    assert.doesNotMatch(await qemuIo(url, 'read -P 0x5a 0 1M'), /Pattern verification failed/);
    await cluster.start('n1', { startWaitMs: 20_000 });
    const v = await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.state === 'attached' && o.status?.robustness === 'healthy', 30_000);
    assert.equal(v.status?.endpoint?.url, url, 'the same target');
    assert.equal((await store.get('Engine', 'e2e-e-0')).status?.pid, engineBefore.status?.pid);
    assert.equal((await store.get('Replica', replicaBefore?.metadata.name as string)).status?.pid, replicaBefore?.status?.pid);
    assert.match(await qemuIo(url, 'write -P 0x3c 8M 1M'), /wrote 1048576\/1048576 bytes/);
    assert.doesNotMatch(await qemuIo(url, 'read -P 0x3c 8M 1M'), /Pattern verification failed/);
  });

  it('stopping every agent with its children and starting them again brings the volume back with its data', async () => {
    const enginePid = (await store.get('Engine', 'e2e-e-0')).status?.pid;
    for (const n of NODES) await cluster.agents.get(n)?.stop({ stopChildren: true });
    const stopped = await store.get('Engine', 'e2e-e-0');
    assert.equal(stopped.status?.currentState, 'stopped');
    assert.ok((await store.list('Replica')).items.every((r) => r.status?.currentState === 'stopped' && r.status?.address === undefined));
    for (const n of NODES) await cluster.start(n, { startWaitMs: 20_000 });
    await waitForObject(store, 'Engine', 'e2e-e-0', (e) => e.status?.currentState === 'running' && e.status?.pid !== enginePid, 60_000);
    const v = await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.state === 'attached' && o.status?.robustness === 'healthy', 60_000);
    url = v.status?.endpoint?.url ?? '';
    for (const [pattern, offset] of [['0x5a', '0'], ['0xa5', '4M'], ['0x3c', '8M']] as const) {
      const out = await qemuIo(url, `read -P ${pattern} ${offset} 1M`);
      assert.match(out, /read 1048576\/1048576 bytes/);
      assert.doesNotMatch(out, /Pattern verification failed/);
    }
  });

  it('detach stops the engine; delete removes every replica directory', async () => {
    const dirs = (await store.list('Replica')).items.map((r) => replicaDataDir(r));
    await store.patch('Volume', 'e2e', { type: 'merge', value: { spec: { nodeID: '' } } });
    await waitForGone(store, 'Engine', 'e2e-e-0', 30_000);
    await waitForObject(store, 'Volume', 'e2e', (o) => o.status?.state === 'detached', 30_000);
    await store.delete('Volume', 'e2e');
    await waitForGone(store, 'Volume', 'e2e', 30_000);
    assert.ok(dirs.every((d) => !existsSync(d)));
  });
});
