import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { Condition } from '../../../api/codecs/meta.ts';
import { after, before, describe, it } from 'node:test';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { realProbeIo } from '../../../diskmgr/health.ts';
import { pollUntil, readProcStat, spawnDetached } from '../../../engine/instances/process.ts';
import { replicaDataDir } from '../../../engine/instances/replicas.ts';
import { AgentCluster, FAKE_SHORTHORN } from '../../helpers/agent-fixture.ts';
import { createReplica } from '../../helpers/instance-objects.ts';
import { waitForGone, waitForObject } from '../../helpers/wait-for-object.ts';
import { join } from 'node:path';

const alive = async (pid: number | undefined) => {
  if (pid === undefined) return false;
  const s = await readProcStat(pid);
  return s !== undefined && s.state !== 'Z';
};

describe('instance supervisor (fake shorthorn children)', { timeout: 60_000 }, () => {
  const store = EmbeddedStore.open({});
  const cluster = new AgentCluster(store);
  before(async () => {
    await cluster.start('n1');
  });
  after(async () => {
    await cluster.close();
    store.close();
  });

  it('starts a replica process for a Replica on its node and reports its address and pid', async () => {
    const r = await createReplica(store, 'r1', { volume: 'v1', node: 'n1', diskPath: cluster.diskPath('n1') });
    const got = await waitForObject(store, 'Replica', 'r1', (o) => o.status?.currentState === 'running');
    assert.match(got.status?.address ?? '', /^127\.0\.0\.1:\d+$/);
    assert.ok(await alive(got.status?.pid));
    assert.ok(existsSync(join(replicaDataDir(r), 'fake-replica.json')));
  });

  it('ignores a Replica bound to another node', async () => {
    await createReplica(store, 'other', { volume: 'v1', node: 'n9', diskPath: cluster.diskPath('n1') });
    await waitForObject(store, 'Replica', 'r1', (o) => o.status?.currentState === 'running');
    const other = await store.get('Replica', 'other');
    assert.equal(other.status, undefined);
  });

  it('restarts a SIGKILLed replica with backoff, keeps its data and reports the new pid', async () => {
    const before = await store.get('Replica', 'r1');
    const pid = before.status?.pid as number;
    process.kill(pid, 'SIGKILL');
    const err = await waitForObject(store, 'Replica', 'r1', (o) => o.status?.currentState === 'error');
    assert.match(err.status?.message ?? '', /SIGKILL.*restarting in \d+ ms/);
    const again = await waitForObject(store, 'Replica', 'r1', (o) => o.status?.currentState === 'running' && o.status?.pid !== pid);
    assert.ok(await alive(again.status?.pid));
    assert.ok(existsSync(join(replicaDataDir(again), 'fake-replica.json')));
  });

  it('reports why a replica fails to start and retries it with growing backoff', async () => {
    await createReplica(store, 'bad', { volume: 'fail-start', node: 'n1', diskPath: cluster.diskPath('n1') });
    const first = await waitForObject(store, 'Replica', 'bad', (o) => /metadata is corrupt/.test(o.status?.message ?? ''));
    assert.equal(first.status?.currentState, 'error');
    assert.match(first.status?.message ?? '', /exited with code 1 \(cannot open replica store in .*: metadata is corrupt\); restarting in \d+ ms/);
    const later = await waitForObject(store, 'Replica', 'bad', (o) => /restarting in (400|800) ms/.test(o.status?.message ?? ''));
    assert.equal(later.status?.currentState, 'error');
    await store.delete('Replica', 'bad');
    await waitForGone(store, 'Replica', 'bad');
  });

  it('refuses a Replica whose data directory would leave <disk>/replicas, and deleting it removes nothing', async () => {
    await createReplica(store, 'evil', { volume: 've', node: 'n1', diskPath: cluster.diskPath('n1'), dataDirectoryName: '..' });
    const r = await waitForObject(store, 'Replica', 'evil', (o) => o.status?.currentState === 'error');
    assert.match(r.status?.message ?? '', /is not usable/);
    await store.delete('Replica', 'evil');
    await waitForGone(store, 'Replica', 'evil');
    assert.ok(existsSync(join(cluster.diskPath('n1'), 'shorthorn-disk.cfg')), 'the disk is intact');
  });

  it('stops the process and removes the data directory of a deleted Replica, then lets it go', async () => {
    const r = await createReplica(store, 'r2', { volume: 'v2', node: 'n1', diskPath: cluster.diskPath('n1') });
    const running = await waitForObject(store, 'Replica', 'r2', (o) => o.status?.currentState === 'running');
    assert.ok(existsSync(replicaDataDir(r)));
    await store.delete('Replica', 'r2');
    await waitForGone(store, 'Replica', 'r2');
    assert.equal(existsSync(replicaDataDir(r)), false);
    assert.equal(await alive(running.status?.pid), false);
  });

  it('a new agent adopts the running children of the one before, ends unclaimed and orphan ones', async () => {
    const r3 = await createReplica(store, 'r3', { volume: 'v3', node: 'n1', diskPath: cluster.diskPath('n1') });
    const kept = await waitForObject(store, 'Replica', 'r1', (o) => o.status?.currentState === 'running');
    const doomed = await waitForObject(store, 'Replica', 'r3', (o) => o.status?.currentState === 'running');
    await cluster.agents.get('n1')?.stop();
    assert.ok(await alive(kept.status?.pid), 'children outlive their agent');
    // While no agent runs: r3's object goes away, and a stray child of this agent appears.
    await store.patch('Replica', 'r3', { type: 'merge', value: { metadata: { finalizers: [] } } });
    await store.delete('Replica', 'r3');
    const marker = join(cluster.dataRoot('n1'), 'secrets', 'stray.secret');
    const stray = await spawnDetached([...FAKE_SHORTHORN, 'replica', 'serve', '--dir', join(cluster.root, 'stray'), '--size', '1', '--listen', '127.0.0.1:0', '--secret-file', marker], '/dev/null', '/dev/null');
    assert.ok(await alive(stray.pid));
    await cluster.start('n1');
    await stray.exited;
    assert.equal(await alive(stray.pid), false, 'the orphan was ended');
    await waitForObject(store, 'Node', 'n1', () => true);
    const after = await waitForObject(store, 'Replica', 'r1', (o) => o.status?.currentState === 'running');
    assert.equal(after.status?.pid, kept.status?.pid, 'adopted, not restarted');
    assert.ok(await alive(kept.status?.pid));
    // The child of the Replica deleted while no agent ran is ended and its data removed.
    assert.ok(await pollUntil(async () => !(await alive(doomed.status?.pid)) && !existsSync(replicaDataDir(r3)), 10_000));
  });

  it('stops the replicas of a disk that vanished, reports them failed, and never adopts the disk when it comes back empty', async () => {
    await cluster.start('n2');
    await createReplica(store, 'd1', { volume: 'vd', node: 'n2', diskPath: cluster.diskPath('n2') });
    const up = await waitForObject(store, 'Replica', 'd1', (o) => o.status?.currentState === 'running');
    rmSync(cluster.diskPath('n2'), { recursive: true, force: true });
    const down = await waitForObject(store, 'Replica', 'd1', (o) => o.status?.currentState === 'error' && (o.spec.failedAt ?? '') !== '');
    assert.match(down.status?.message ?? '', /disk disk1 is not ready/);
    assert.ok(await pollUntil(async () => !(await alive(up.status?.pid)), 10_000), 'its process was stopped');
    mkdirSync(cluster.diskPath('n2'));
    const node = await waitForObject(store, 'Node', 'n2', (o) => o.status?.diskStatus?.disk1?.conditions?.some((c: Condition) => c.type === 'Ready' && c.reason === 'DiskFilesystemChanged') === true);
    assert.equal(existsSync(join(cluster.diskPath('n2'), 'shorthorn-disk.cfg')), false, 'no new identity written over a changed disk');
    assert.ok(node.status?.diskStatus?.disk1?.diskUUID);
    assert.equal((await store.get('Replica', 'd1')).status?.currentState, 'error');
  });

  it('reports the replicas of a disk that stops answering as failed but leaves their processes alone', async () => {
    let hang = false;
    await cluster.start('n3', { probeIo: { writeSyncRead: (f, b) => (hang ? new Promise(() => undefined) : realProbeIo.writeSyncRead(f, b)) } });
    await createReplica(store, 'h1', { volume: 'vh', node: 'n3', diskPath: cluster.diskPath('n3') });
    const up = await waitForObject(store, 'Replica', 'h1', (o) => o.status?.currentState === 'running');
    hang = true;
    const down = await waitForObject(store, 'Replica', 'h1', (o) => o.status?.currentState === 'error' && (o.spec.failedAt ?? '') !== '');
    assert.match(down.status?.message ?? '', /disk disk1 is not answering/);
    assert.ok(await alive(up.status?.pid), 'the process was left running');
    hang = false;
    const back = await waitForObject(store, 'Replica', 'h1', (o) => o.status?.currentState === 'running');
    assert.equal(back.status?.pid, up.status?.pid);
  });

  it('an adopted child that dies is restarted too', async () => {
    const cur = await store.get('Replica', 'r1');
    process.kill(cur.status?.pid as number, 'SIGKILL');
    const again = await waitForObject(store, 'Replica', 'r1', (o) => o.status?.currentState === 'running' && o.status?.pid !== cur.status?.pid);
    assert.ok(await alive(again.status?.pid));
  });
});
