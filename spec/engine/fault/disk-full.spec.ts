import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { engineStatus } from '../../../engine/controller/status.ts';
import { Cluster } from './harness.ts';
import { stampSectors } from './sector-pattern.ts';

/**
 * Disk full on one replica: its directory sits on a 24 MiB ext4 filesystem on a loop device, the
 * volume is 64 MiB. Needs root (losetup/mount), which CI and this machine have; elsewhere the
 * suite says why it did not run.
 */

const run = promisify(execFile);
const MiB = 1 << 20;
const SIZE = 64 * MiB;
const isRoot = process.getuid?.() === 0;

describe('disk full on one replica', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let mnt = '';

  before(async () => {
    // A test that cannot run says so and fails: a skipped test proves nothing (CI runs as root).
    if (!isRoot) throw new Error('this test needs root to mount a small loop filesystem (losetup, mount)');
    cluster = await Cluster.create(SIZE);
    const img = join(cluster.dir, 'small.img');
    mnt = join(cluster.dir, 'small');
    await mkdir(mnt);
    await run('truncate', ['-s', '24M', img]);
    await run('mkfs.ext4', ['-q', '-F', img]);
    await run('mount', ['-o', 'loop', img, mnt]);
  });
  after(async () => {
    await Promise.all(cluster.replicas.map((r) => r.kill('SIGKILL')));
    if (mnt !== '') await run('umount', [mnt]).catch(() => undefined);
    await cluster.cleanup();
  });

  it('turns that replica ERR with a cause naming it and ENOSPC; the volume keeps serving', async () => {
    const replicas = await cluster.addReplicas(3, (i) => (i === 2 ? join(mnt, 'r3') : join(cluster.dir, `r${i + 1}`)));
    const full = replicas[2]!;
    const engine = await cluster.engine(replicas);
    for (let o = 0; o < 48 * MiB; o += MiB) await engine.writeAt(o, stampSectors(o / 512, 2048, 1));
    await engine.flush();
    assert.equal(engine.find(full.address)?.mode, 'ERR');
    const st = await engineStatus(engine);
    const line = st.replicas.find((r) => r.address === full.address);
    assert.match(line?.cause ?? '', new RegExp(`^replica ${full.address}: .*(ENOSPC|no space left)`));
    assert.deepEqual(
      st.replicas.filter((r) => r.address !== full.address).map((r) => r.mode),
      ['RW', 'RW'],
    );
    assert.ok((await engine.readAt(40 * MiB, MiB)).equals(stampSectors((40 * MiB) / 512, 2048, 1)));
    await engine.writeAt(63 * MiB, stampSectors((63 * MiB) / 512, 2048, 2));
  });
});
