import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { connectReplica, type WireReplicaConnection } from '../../../engine/wire/client.ts';
import { ReplicaError } from '../../../engine/wire/errors.ts';
import { openStore } from '../../../engine/replica/store-open.ts';
import type { ReplicaStore } from '../../../engine/replica/store.ts';
import { startReplicaServer, type ReplicaServer } from '../../../engine/replica/server.ts';
import { createLogger } from '../../../api/log.ts';

const SECRET = Buffer.from('disk-full-secret-0123456789abcdef');
const MiB = 1024 * 1024;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

describe('replica on a full disk (16 MiB loop-mounted ext4)', { timeout: 60_000 }, () => {
  let root: string;
  let mnt: string;
  let loop = '';
  let mounted = false;
  let store: ReplicaStore;
  let server: ReplicaServer;
  let c: WireReplicaConnection;
  let dir: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shorthorn-full-'));
    mnt = join(root, 'mnt');
    await mkdir(mnt);
    const image = join(root, 'fs.img');
    await writeFile(image, '');
    await truncate(image, 16 * MiB);
    try {
      sh('mkfs.ext4', ['-q', '-F', image]);
      loop = sh('losetup', ['--find', '--show', image]);
      sh('mount', [loop, mnt]);
      mounted = true;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`this test needs root and loop devices (mkfs.ext4, losetup, mount) to make a small full filesystem: ${(err.stderr ?? err.message).trim()}`);
    }
    dir = join(mnt, 'replicas', 'vol-r1');
    const opened = await openStore({ dir, sizeBytes: 64 * MiB, log: createLogger('test', { sink: () => {} }) });
    if (E.isLeft(opened)) throw new Error(opened.left._tag);
    store = opened.right;
    server = await startReplicaServer({ backend: store, secret: SECRET, host: '127.0.0.1', port: 0, log: createLogger('replica', { sink: () => {} }) });
    c = await connectReplica({ host: '127.0.0.1', port: server.port, secret: SECRET });
  });

  after(async () => {
    c?.close();
    await server?.close();
    await store?.close().catch(() => undefined);
    if (mounted) sh('umount', [mnt]);
    if (loop !== '') sh('losetup', ['-d', loop]);
    await rm(root, { recursive: true, force: true });
  });

  it('answers writes past the free space with ENOSPC naming the replica, and keeps serving', async () => {
    let written = 0;
    let failure: unknown = null;
    for (let off = 0; off < 64 * MiB; off += MiB) {
      try {
        await c.writeAt(off, Buffer.alloc(MiB, (off / MiB) % 250 + 1));
        written = off + MiB;
      } catch (e) {
        failure = e;
        break;
      }
    }
    assert.ok(failure instanceof ReplicaError, `expected an error response, got ${String(failure)}`);
    assert.equal(failure.code, 'ENOSPC');
    assert.ok(failure.message.includes(dir), failure.message);
    assert.ok(written > 4 * MiB && written < 16 * MiB, `wrote ${written} bytes before ENOSPC`);
    // The server lives: the same connection and a new one both work, and the data written reads back.
    await c.ping();
    assert.ok((await c.readAt(0, MiB)).equals(Buffer.alloc(MiB, 1)));
    const c2 = await connectReplica({ host: '127.0.0.1', port: server.port, secret: SECRET });
    assert.ok((await c2.readAt(written - MiB, MiB)).equals(Buffer.alloc(MiB, ((written - MiB) / MiB) % 250 + 1)));
    await c2.writeAt(0, Buffer.alloc(4096, 9));
    c2.close();
  });
});
