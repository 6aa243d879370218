import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import { connect } from 'node:net';
import { once } from 'node:events';
import { ReplicaError } from '../../../engine/wire/errors.ts';
import { connectReplica } from '../../../engine/wire/client.ts';
import { openStore } from '../../../engine/replica/store-open.ts';
import { createLogger } from '../../../api/log.ts';
import { runReplica, startReplica } from './replica-process.ts';

const SECRET = 'a-volume-secret-of-32-bytes-long';
const MiB = 1024 * 1024;

describe('shorthorn replica serve', { timeout: 90_000 }, () => {
  let root: string;
  let secretFile: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shorthorn-serve-'));
    secretFile = join(root, 'secret');
    await writeFile(secretFile, SECRET + '\n');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates the store, prints the port it listens on, refuses a wrong secret and garbage while serving, stops on SIGTERM and reopens with the data', async () => {
    const dir = join(root, 'r1');
    const p = await startReplica({ dir, size: '64Mi', secretFile });
    assert.ok(p.port > 0);
    const c = await connectReplica({ host: p.host, port: p.port, secret: SECRET });
    await c.writeAt(4096, Buffer.alloc(4096, 7));
    await c.flush();
    const id = (await c.info()).replicaId;
    // Hostile peers are refused and logged while the good client keeps working.
    const load = Promise.all(Array.from({ length: 100 }, (_, i) => c.writeAt(MiB + i * 4096, Buffer.alloc(4096, i))));
    await assert.rejects(connectReplica({ host: p.host, port: p.port, secret: 'the-wrong-secret-for-this-volume' }), (e: unknown) => e instanceof ReplicaError && e.code === 'EACCES');
    const raw = connect({ host: p.host, port: p.port });
    raw.end(Buffer.from('\x00\x01garbage that is not a frame'));
    raw.resume();
    await once(raw, 'close');
    await load;
    assert.ok((await c.readAt(MiB + 99 * 4096, 4096)).equals(Buffer.alloc(4096, 99)));
    while (!p.stderr.some((l) => /protocol violation/.test(l))) await c.ping();
    assert.ok(p.stderr.some((l) => /connection refused/.test(l) && /wrong secret/.test(l)));
    c.close();
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    const again = await startReplica({ dir, size: String(64 * 1024 * 1024), secretFile });
    const c2 = await connectReplica({ host: again.host, port: again.port, secret: SECRET });
    const info = await c2.info();
    assert.equal(info.replicaId, id);
    assert.equal(info.dirty, false);
    assert.ok((await c2.readAt(4096, 4096)).equals(Buffer.alloc(4096, 7)));
    c2.close();
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0);
  });

  const refusals = [
    { name: 'a directory whose size differs', prepare: async () => {}, size: '128Mi', match: /holds a volume of 67108864 bytes \(64Mi\), not the 134217728 bytes/ },
    { name: 'a directory with corrupt metadata', prepare: (dir: string) => writeFile(join(dir, 'volume.json'), 'garbage'), size: '64Mi', match: /corrupt replica metadata .*volume\.json/ },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with one line and exit 1`, async () => {
      const dir = join(root, `refuse-${refusals.indexOf(r)}`);
      const made = await openStore({ dir, sizeBytes: 64 * 1024 * 1024, log: createLogger('test', { sink: () => {} }) });
      assert.ok(E.isRight(made));
      await made.right.close();
      await r.prepare(dir);
      const out = await runReplica(['--dir', dir, '--size', r.size, '--listen', '127.0.0.1:0', '--secret-file', secretFile]);
      assert.equal(out.code, 1);
      const lines = out.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
      assert.equal(lines.length, 1, out.stderr);
      assert.match(lines[0] as string, r.match);
    });
  }

  it('refuses a bad --size as a usage error (exit 2)', async () => {
    const out = await runReplica(['--dir', join(root, 'x'), '--size', '1Gx', '--listen', '127.0.0.1:0', '--secret-file', secretFile]);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--size/);
  });
});
