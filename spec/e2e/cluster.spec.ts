import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connectStore } from '../../api/store/connect.ts';
import type { ObjectStore } from '../../api/store/port.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import { kill9, shorthorn, startShorthorn } from '../helpers/cli.ts';
import { run } from '../helpers/exec.ts';
import { readProcStat } from '../../engine/instances/process.ts';

/**
 * What a new user does on a fresh machine, end to end, with real processes: dev up, a 3-replica
 * volume, attach, a verifiable pattern through the iSCSI target with QEMU's initiator, a replica
 * SIGKILLed under writes, an agent SIGKILLed, the whole cluster stopped and started, everything
 * read back and verified, detach and delete.
 */
const MiB = 1024 * 1024;
const API_LINE = /API:\s+(http:\/\/\S+)/;

function pattern(seed: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let off = 0; off < bytes; off += 32) createHash('sha256').update(`${seed}:${off}`).digest().copy(out, off);
  return out;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a new user on one machine: dev up → volume → iSCSI → failures → restart → delete', { timeout: 600_000 }, () => {
  const data = mkdtempSync(join(tmpdir(), 'sh-e2e-'));
  const env = { SHORTHORN_KUBECONFIG: join(data, 'kubeconfig') };
  const portBase = String(30000 + (process.pid % 20) * 1500);
  let dev: ChildProcess;
  let store: ObjectStore;
  const devArgs = ['dev', 'up', '--data', data, '--listen', '127.0.0.1:0', '--nodes', '3', '--disks-per-node', '2', '--port-base', portBase];
  const volume = () => store.get('Volume', 'e2e');

  const startCluster = async () => {
    const up = await startShorthorn(devArgs, API_LINE);
    dev = up.child;
    store = await connectStore({ server: (up.match[1] as string) });
  };
  const stopCluster = async () => {
    const gone = once(dev, 'exit');
    dev.kill('SIGTERM');
    await gone;
  };

  before(startCluster);
  after(async () => {
    if (dev && dev.exitCode === null && dev.signalCode === null) await stopCluster().catch(() => kill9(dev));
    rmSync(data, { recursive: true, force: true });
  });

  let url = '';
  /** Robustness values the volume went through since the replica was killed (watched, not polled). */
  const robustnessSeen: string[] = [];
  let robustnessWatch: ReturnType<ObjectStore['watch']> | undefined;
  const first = pattern(1, 16 * MiB);
  const second = pattern(2, 16 * MiB);
  const files = { first: join(data, 'first.img'), second: join(data, 'second.img'), back: join(data, 'back.img') };

  it('creates a 3-replica 256 MiB volume and attaches it; volume get shows replicas on three nodes', async () => {
    const c = await shorthorn(['volume', 'create', 'e2e', '--size', '256Mi', '--replicas', '3'], env);
    assert.equal(c.code, 0, c.stderr);
    const a = await shorthorn(['volume', 'attach', 'e2e', '--node', 'node1', '--timeout', '120s'], env);
    assert.equal(a.code, 0, a.stderr);
    url = /url:\s+(iscsi:\/\/\S+)/.exec(a.stdout)?.[1] ?? '';
    assert.match(url, /^iscsi:\/\/127\.0\.0\.1:\d+\/iqn\.2026-11\.io\.shorthorn:e2e\/0$/);
    const replicas = (await store.list('Replica')).items.filter((r) => r.spec.volumeName === 'e2e');
    assert.equal(new Set(replicas.map((r) => r.spec.nodeID)).size, 3, 'one replica per node');
    const g = await shorthorn(['volume', 'get', 'e2e'], env);
    assert.match(g.stdout, /Replicas:\s+3\/3 healthy\/desired/);
    assert.match(g.stdout, /State:\s+attached/);
  });

  it('writes a pattern through the iSCSI target with QEMU, and keeps writing while a replica is SIGKILLed', async () => {
    writeFileSync(files.first, first);
    writeFileSync(files.second, second);
    const w1 = await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', files.first, url], { timeoutMs: 120_000 });
    assert.equal(w1.code, 0, w1.stderr);
    const victim = (await store.list('Replica')).items.find((r) => r.spec.volumeName === 'e2e' && r.spec.nodeID === 'node3');
    assert.ok(victim?.status?.pid, 'the replica reports its pid');
    const rv = (await volume()).metadata.resourceVersion;
    robustnessWatch = store.watch('Volume', { resourceVersion: rv }, (e) => {
      if (e.type !== 'BOOKMARK' && e.object.metadata.name === 'e2e' && e.object.status?.robustness) robustnessSeen.push(e.object.status.robustness);
    });
    robustnessWatch.done.catch(() => undefined);
    // The second region goes in with qemu-io while the replica dies under it.
    const writing = run('qemu-io', ['-f', 'raw', '-c', `write -P 0x5a ${64 * MiB} ${32 * MiB}`, url], { timeoutMs: 120_000 });
    process.kill(victim.status.pid as number, 'SIGKILL');
    const w2 = await writing;
    assert.equal(w2.code, 0, `writes failed while a replica died: ${w2.stderr}`);
    assert.doesNotMatch(w2.stdout, /error|failed/i);
    const w3 = await run('qemu-img', ['convert', '-n', '-f', 'raw', '--target-image-opts', files.second, `driver=raw,offset=${128 * MiB},size=${16 * MiB},file.driver=iscsi,file.transport=tcp,file.portal=${new URL(url).host},file.target=iqn.2026-11.io.shorthorn:e2e,file.lun=0`], { timeoutMs: 120_000 });
    assert.equal(w3.code, 0, w3.stderr);
  });

  it('shows the volume degraded, then healthy again without help', async () => {
    await until('degraded', 30_000, async () => (robustnessSeen.includes('degraded') ? true : undefined));
    const healed = await until('healthy with 3 RW replicas', 180_000, async () => {
      const v: Volume = await volume();
      const rw = Object.values(v.status?.replicaModes ?? {}).filter((m) => m === 'RW').length;
      return v.status?.robustness === 'healthy' && rw === 3 ? v : undefined;
    });
    assert.equal(healed.status?.state, 'attached');
    robustnessWatch?.stop();
    assert.ok(healed.status?.lastDegradedAt, 'the status records when it was degraded');
  });

  it('expands the attached volume online with `volume expand`: the initiator sees the new size, the old data stays, the new blocks take data', async () => {
    const x = await shorthorn(['volume', 'expand', 'e2e', '--size', '320Mi', '--timeout', '120s'], env);
    assert.equal(x.code, 0, x.stderr);
    assert.match(x.stdout, /volume\.shorthorn\.io\/e2e expanded to 320Mi \(online\)/);
    const cap = await run('iscsi-readcapacity16', [url], { timeoutMs: 30_000 });
    assert.match(cap.stdout, /Total size:\s*335544320\b/);
    const io = await run('qemu-io', ['-f', 'raw', '-c', `write -P 0x6e ${300 * MiB} ${4 * MiB}`, '-c', `read -P 0x6e ${300 * MiB} ${4 * MiB}`, '-c', `read -P 0x5a ${64 * MiB} ${32 * MiB}`, url], { timeoutMs: 120_000 });
    assert.equal(io.code, 0, io.stderr);
    assert.doesNotMatch(io.stdout, /Pattern verification failed|error/i);
    const shrink = await shorthorn(['volume', 'expand', 'e2e', '--size', '128Mi'], env);
    assert.equal(shrink.code, 1);
    assert.match(shrink.stderr, /spec\.size: cannot shrink from 320Mi to 128Mi/);
  });

  it('keeps replicas serving when the agent of their node is SIGKILLed and started again', async () => {
    const pidFile = join(data, 'nodes', 'node2', 'agent.pid');
    const agentPid = Number(readFileSync(pidFile, 'utf8'));
    const before = (await store.list('Replica')).items.filter((r) => r.spec.nodeID === 'node2').map((r) => r.status?.pid);
    process.kill(agentPid, 'SIGKILL');
    await until('a new agent for node2', 30_000, async () => {
      const p = Number(readFileSync(pidFile, 'utf8'));
      return p !== agentPid ? p : undefined;
    });
    const r = await run('qemu-io', ['-f', 'raw', '-c', `read -P 0x5a ${64 * MiB} ${32 * MiB}`, url], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /Pattern verification failed/);
    const after = (await store.list('Replica')).items.filter((x) => x.spec.nodeID === 'node2').map((x) => x.status?.pid);
    assert.deepEqual(after, before, 'the replica processes were adopted, not restarted');
    assert.equal((await volume()).status?.robustness, 'healthy');
  });

  it('stops the whole cluster and starts it again: the volume, its placement and its data are there', async () => {
    const placement = (await store.list('Replica')).items.filter((r) => r.spec.volumeName === 'e2e').map((r) => `${r.spec.nodeID}/${r.spec.diskID}`).sort();
    const oldEngine = (await store.list('Engine')).items.find((e) => e.spec.volumeName === 'e2e')?.status?.pid;
    assert.ok(oldEngine, 'the engine reports its pid');
    await stopCluster();
    // Ended: gone, or a zombie of init. An engine adopted by a restarted agent is not that agent's
    // child, so once ended it waits for init to reap it (this VM's init does so seconds later), and
    // kill(pid, 0) still answers for a zombie. Still running would be a leaked engine.
    const left = await readProcStat(oldEngine);
    assert.ok(left === undefined || left.state === 'Z' || left.state === 'X', `a clean stop ends the engine: pid ${oldEngine} is in state ${left?.state}`);
    await startCluster();
    const again = (await store.list('Replica')).items.filter((r) => r.spec.volumeName === 'e2e').map((r) => `${r.spec.nodeID}/${r.spec.diskID}`).sort();
    assert.deepEqual(again, placement);
    const v = await until('attached again, served by a new engine', 120_000, async () => {
      const x = await volume();
      const eng = (await store.list('Engine')).items.find((e) => e.spec.volumeName === 'e2e');
      return x.status?.state === 'attached' && x.status.endpoint?.url && eng?.status?.pid !== undefined && eng.status.pid !== oldEngine ? x : undefined;
    });
    url = v.status?.endpoint?.url as string;
    const read = await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', url, files.back], { timeoutMs: 120_000 });
    assert.equal(read.code, 0, read.stderr);
    const back = readFileSync(files.back);
    assert.equal(back.length, 320 * MiB, 'the size it was expanded to');
    assert.ok(back.subarray(300 * MiB, 304 * MiB).equals(Buffer.alloc(4 * MiB, 0x6e)), 'the region written past the old end reads back');
    assert.ok(back.subarray(0, 16 * MiB).equals(first), 'the first pattern reads back');
    assert.ok(back.subarray(64 * MiB, 96 * MiB).equals(Buffer.alloc(32 * MiB, 0x5a)), 'the region written during the replica kill reads back');
    assert.ok(back.subarray(128 * MiB, 144 * MiB).equals(second), 'the second pattern reads back');
    assert.ok(back.subarray(16 * MiB, 64 * MiB).equals(Buffer.alloc(48 * MiB)), 'unwritten space reads as zeros');
    assert.ok(back.subarray(256 * MiB, 300 * MiB).equals(Buffer.alloc(44 * MiB)), 'the grown space reads as zeros where unwritten');
  });

  it('shows the placement explanation for a volume that cannot be placed', async () => {
    const c = await shorthorn(['volume', 'create', 'nowhere', '--size', '64Mi', '--replicas', '1', '--disk-selector', 'nvme'], env);
    assert.equal(c.code, 0, c.stderr);
    const msg = await until('a Scheduled=False condition', 30_000, async () => {
      const g = await shorthorn(['volume', 'get', 'nowhere'], env);
      return /Scheduling:/.test(g.stdout) ? g.stdout : undefined;
    });
    assert.match(msg, /Scheduling:\s+0\/6 disks are available: 6 tags not fulfilled/);
    assert.equal((await shorthorn(['volume', 'delete', 'nowhere'], env)).code, 0);
  });

  it('evicts a disk and removes it without the volume ever dropping below 3 healthy replicas', async () => {
    const victim = (await store.list('Replica')).items.find((r) => r.spec.volumeName === 'e2e' && r.spec.nodeID === 'node2');
    assert.ok(victim);
    const disk = victim.spec.diskID;
    let lowest = 3;
    const rv = (await volume()).metadata.resourceVersion;
    const watch = store.watch('Volume', { resourceVersion: rv }, (e) => {
      if (e.type === 'BOOKMARK' || e.object.metadata.name !== 'e2e') return;
      const rw = Object.values(e.object.status?.replicaModes ?? {}).filter((m) => m === 'RW').length;
      lowest = Math.min(lowest, rw);
    });
    watch.done.catch(() => undefined);
    try {
    const refused = await shorthorn(['node', 'disk', 'remove', 'node2', disk], env);
    assert.notEqual(refused.code, 0, 'a disk that holds a replica and allows scheduling cannot be removed');
    const ev = await shorthorn(['node', 'disk', 'update', 'node2', disk, '--scheduling', 'disable', '--evict', 'enable'], env);
    assert.equal(ev.code, 0, ev.stderr);
    await until('the replica to move off the disk', 180_000, async () => {
      const rs = (await store.list('Replica')).items.filter((r) => r.spec.volumeName === 'e2e');
      const v = await volume();
      const rw = Object.values(v.status?.replicaModes ?? {}).filter((m) => m === 'RW').length;
      return rs.length === 3 && rs.every((r) => !(r.spec.nodeID === 'node2' && r.spec.diskID === disk)) && rw === 3 ? true : undefined;
    });
    const rm = await until('the emptied disk to be removable', 60_000, async () => {
      const r = await shorthorn(['node', 'disk', 'remove', 'node2', disk], env);
      return r.code === 0 ? r : undefined;
    });
    assert.match(rm.stdout, new RegExp(`disk ${disk} removed`));
    } finally {
      watch.stop();
    }
    assert.equal(lowest, 3, 'the volume never had fewer than 3 RW replicas');
    const read = await run('qemu-io', ['-f', 'raw', '-c', `read -P 0x5a ${64 * MiB} ${32 * MiB}`, url], { timeoutMs: 60_000 });
    assert.equal(read.code, 0, read.stderr);
    assert.doesNotMatch(read.stdout, /Pattern verification failed/);
  });

  it('detaches and deletes: the replica directories are gone', async () => {
    const dirs = (await store.list('Replica')).items.filter((r) => r.spec.volumeName === 'e2e').map((r) => join(r.spec.diskPath, 'replicas', r.spec.dataDirectoryName));
    assert.ok(dirs.every((d) => existsSync(d)), `replica directories exist: ${dirs.join(', ')}`);
    const d = await shorthorn(['volume', 'detach', 'e2e', '--timeout', '60s'], env);
    assert.equal(d.code, 0, d.stderr);
    const del = await shorthorn(['volume', 'delete', 'e2e'], env);
    assert.equal(del.code, 0, del.stderr);
    await until('the volume to be gone', 60_000, async () => ((await store.list('Volume')).items.some((v) => v.metadata.name === 'e2e') ? undefined : true));
    await until('replica directories removed', 60_000, async () => (dirs.every((x) => !existsSync(x)) ? true : undefined));
  });
});
