import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Cluster, ROOT, engineCli, engineStatus, engineStatusUntil, spawnReady, type Child } from './harness.ts';

/**
 * `shorthorn engine serve` as a real process over real replica processes, driven through its
 * control API and the `shorthorn engine` client commands (and an initiator on its iSCSI portal).
 */

const run = promisify(execFile);
const SIZE = 16 << 20;





describe('shorthorn engine serve (real processes)', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let engine: Child;
  let control: string;

  before(async () => {
    cluster = await Cluster.create(SIZE);
    const replicas = await cluster.addReplicas(2);
    const args = ['engine', 'serve', '--volume', 'vol1', '--size', '16Mi', '--secret-file', cluster.secretFile, '--control', '127.0.0.1:0', '--io-timeout', '2000', '--frontend', 'iscsi', '--listen', '127.0.0.1:0'];
    for (const r of replicas) args.push('--replica', r.address);
    engine = await spawnReady(args);
    cluster.children.push(engine);
    control = engine.ready.control as string;
  });
  after(async () => cluster.cleanup());

  it('prints its control address, portal and IQN, with the actual ports', () => {
    assert.match(control, /^127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(control, /:0$/);
    assert.match(engine.ready.portal ?? '', /^127\.0\.0\.1:[1-9]\d*$/);
    assert.equal(engine.ready.iqn, 'iqn.2026-11.io.shorthorn:vol1');
  });

  it('serves the volume to an iSCSI initiator', async () => {
    const url = `iscsi://${engine.ready.portal}/${engine.ready.iqn}/0`;
    const { stdout } = await run('iscsi-readcapacity16', [url]);
    assert.match(stdout, /Total size:\s*16777216/);
    const io = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0xa5 65536 131072', '-c', 'read -P 0xa5 65536 131072', url]);
    assert.doesNotMatch(io.stdout + io.stderr, /Pattern verification failed|error/i);
    const direct = await cluster.contents(cluster.replicas[0]!);
    assert.ok(direct.data.subarray(65536, 65536 + 131072).every((b) => b === 0xa5));
  });

  it('shows a SIGKILLed replica ERR on the control API within a second, with its cause', async () => {
    const victim = cluster.replicas[1]!;
    const before = await engineStatus(control);
    assert.deepEqual(
      before.replicas.map((r) => r.mode),
      ['RW', 'RW'],
    );
    const t0 = performance.now();
    await victim.kill('SIGKILL');
    const s = await engineStatusUntil(control, (x) => x.replicas[1]?.mode === 'ERR', 1000);
    assert.equal(s.replicas[1]?.mode, 'ERR', `still ${s.replicas[1]?.mode} after ${Math.round(performance.now() - t0)} ms`);
    assert.match(s.replicas[1]?.cause ?? '', new RegExp(`^replica ${victim.address}: `));
    const table = await engineCli('status', '--control', control);
    assert.match(table.stdout, new RegExp(`${victim.address}\\s+ERR`));
  });

  it('takes the replica back with add-replica and turns it RW', async () => {
    const victim = cluster.replicas[1]!;
    await victim.start();
    const added = await engineCli('add-replica', '--control', control, victim.address);
    assert.match(added.stdout, /added; (delta|full) rebuild started/);
    const s = await engineStatusUntil(control, (x) => x.replicas[1]?.mode === 'RW', 20_000);
    assert.equal(s.replicas[1]?.mode, 'RW');
    assert.equal(s.replicas[1]?.revision, s.replicas[0]?.revision);
  });

  it('refuses to remove the last RW replica, and exits 1 with the reason', async () => {
    await engineCli('remove-replica', '--control', control, cluster.replicas[1]!.address);
    await assert.rejects(engineCli('remove-replica', '--control', control, cluster.replicas[0]!.address), (e: { code: number; stderr: string }) => e.code === 1 && /last healthy replica/.test(e.stderr));
  });

  it('serves metrics and stops cleanly on SIGTERM', async () => {
    const text = await (await fetch(`http://${control}/metrics`)).text();
    assert.match(text, /shorthorn_engine_replica_io_seconds_bucket/);
    engine.proc.kill('SIGTERM');
    const [code] = (await engine.exited) as [number | null];
    assert.equal(code, 0);
  });
});

describe('shorthorn engine serve refusals', { timeout: 60_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.create(SIZE);
  });
  after(async () => cluster.cleanup());

  it('refuses to start when no replica is reachable, naming each one', async () => {
    const args = ['bin/shorthorn.mjs', 'engine', 'serve', '--volume', 'v', '--size', '16Mi', '--secret-file', cluster.secretFile, '--control', '127.0.0.1:0', '--replica', '127.0.0.1:1'];
    await assert.rejects(run(process.execPath, args, { cwd: ROOT }), (e: { code: number; stderr: string }) => e.code === 1 && /no replica can be trusted \(127\.0\.0\.1:1: .*ECONNREFUSED/.test(e.stderr));
  });
});
