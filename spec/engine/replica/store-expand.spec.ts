import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, describeStoreError } from '../../../engine/replica/store-open.ts';
import type { ReplicaStore } from '../../../engine/replica/store.ts';
import { createLogger } from '../../../api/log.ts';

/** Volume expansion of the on-disk store: growth, its durability, and what it refuses. */

const MiB = 1024 * 1024;
const TiB = 2 ** 40;
const quiet = createLogger('test', { sink: () => {} });

function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32BE((seed * 2654435761 + i * 7) >>> 0, i);
  return b;
}

async function open(dir: string, sizeBytes: number): Promise<ReplicaStore> {
  const r = await openStore({ dir, sizeBytes, log: quiet });
  if (E.isLeft(r)) throw new Error(describeStoreError(r.left));
  return r.right;
}

describe('ReplicaStore.expand', { timeout: 60_000 }, () => {
  let root: string;
  let n = 0;
  const fresh = () => join(root, `r${n++}`);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shorthorn-expand-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('grows a volume whose old end split a 4 KiB block: old data stays, the rest reads zeros, new blocks take writes', async () => {
    const dir = fresh();
    const old = MiB + 512; // the last block holds one sector of volume
    const s = await open(dir, old);
    const last = pattern(512, 1);
    await s.write(old - 512, last);
    await s.flush();
    await s.expand(3 * MiB);
    assert.equal(s.sizeBytes, 3 * MiB);
    assert.equal(s.info().sizeBytes, 3 * MiB);
    const across = await s.read(old - 512, 8192);
    assert.ok(across.subarray(0, 512).equals(last), 'the sector before the old end');
    assert.ok(across.subarray(512).equals(Buffer.alloc(8192 - 512)), 'past the old end: zeros');
    const far = pattern(64 * 1024, 2);
    await s.write(3 * MiB - far.length, far);
    await s.write(old, pattern(512, 3)); // the rest of the split block
    await s.flush();
    await s.close();

    const again = await open(dir, 3 * MiB);
    assert.ok((await again.read(old - 512, 512)).equals(last));
    assert.ok((await again.read(old, 512)).equals(pattern(512, 3)));
    assert.ok((await again.read(3 * MiB - far.length, far.length)).equals(far));
    assert.deepEqual(again.allocatedRanges(MiB + 4096, 2 * MiB - 4096, 10), [{ offsetBytes: 3 * MiB - far.length, lengthBytes: far.length }]);
    await again.close();
  });

  it('is durable once it resolves: the store reopens only at the new size, naming both sizes otherwise', async () => {
    const dir = fresh();
    const s = await open(dir, 4 * MiB);
    await s.expand(8 * MiB);
    // No close: as if the process were killed right after the reply.
    const r = await openStore({ dir, sizeBytes: 4 * MiB, log: quiet });
    assert.ok(E.isLeft(r));
    assert.match(describeStoreError(r.left), /8388608|8 ?Mi/);
    await s.close();
    await (await open(dir, 8 * MiB)).close();
  });

  it('with allowGrow, opening at a larger size grows the store (a replica that missed the expansion); a larger store is still refused', async () => {
    const dir = fresh();
    const s = await open(dir, 4 * MiB);
    await s.write(4 * MiB - 4096, pattern(4096, 10));
    await s.close();
    const r = await openStore({ dir, sizeBytes: 12 * MiB, log: quiet, allowGrow: true });
    assert.ok(E.isRight(r));
    assert.equal(r.right.sizeBytes, 12 * MiB);
    assert.ok((await r.right.read(4 * MiB - 4096, 8192)).equals(Buffer.concat([pattern(4096, 10), Buffer.alloc(4096)])));
    await r.right.write(12 * MiB - 4096, pattern(4096, 11));
    await r.right.close();
    const small = await openStore({ dir, sizeBytes: 8 * MiB, log: quiet, allowGrow: true });
    assert.ok(E.isLeft(small) && small.left._tag === 'SizeMismatch');
    assert.ok((await (await open(dir, 12 * MiB)).read(12 * MiB - 4096, 4096)).equals(pattern(4096, 11)));
  });

  it('refuses to shrink (EINVAL, the store unchanged) and is a no-op at the same size', async () => {
    const s = await open(fresh(), 8 * MiB);
    await assert.rejects(s.expand(4 * MiB), (e: Error & { code?: string }) => e.code === 'EINVAL' && /cannot shrink from 8388608 to 4194304/.test(e.message));
    await s.expand(8 * MiB);
    assert.equal(s.sizeBytes, 8 * MiB);
    await s.close();
  });

  it('grows every layer of the chain: a snapshot below still resolves, and the head takes the new range', async () => {
    const dir = fresh();
    const s = await open(dir, 2 * MiB);
    const snapData = pattern(8192, 4);
    await s.write(MiB, snapData);
    await s.snapshot();
    await s.write(MiB, pattern(512, 5)); // the head shadows one sector of the snapshot's block
    await s.expand(6 * MiB);
    const tail = pattern(4096, 6);
    await s.write(5 * MiB, tail);
    await s.flush();
    await s.close();
    const again = await open(dir, 6 * MiB);
    const got = await again.read(MiB, 8192);
    assert.ok(got.subarray(0, 512).equals(pattern(512, 5)));
    assert.ok(got.subarray(512).equals(snapData.subarray(512)));
    assert.ok((await again.read(5 * MiB, 4096)).equals(tail));
    await again.close();
  });

  it('grows across the 8 TiB segment boundary: the second segment file is made and holds the new end', async () => {
    const dir = fresh();
    const s = await open(dir, 1024 * MiB);
    await s.write(0, pattern(4096, 7));
    await s.expand(9 * TiB);
    const end = pattern(4096, 8);
    await s.write(9 * TiB - 4096, end);
    const straddle = pattern(8192, 9);
    await s.write(8 * TiB - 4096, straddle);
    await s.flush();
    await s.close();
    assert.ok((await stat(join(dir, 'layer-000001.img.1'))).isFile());
    const again = await open(dir, 9 * TiB);
    assert.ok((await again.read(0, 4096)).equals(pattern(4096, 7)));
    assert.ok((await again.read(9 * TiB - 4096, 4096)).equals(end));
    assert.ok((await again.read(8 * TiB - 4096, 8192)).equals(straddle));
    await again.close();
  });
});
