import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../../api/log.ts';
import { BufferPool } from '../../../../engine/io/buffer-pool.ts';
import { FileDevice } from '../../../../engine/frontend/file-device.ts';
import type { IscsiTarget } from '../../../../engine/frontend/index.ts';
import { startTarget } from '../../../../engine/frontend/iscsi/target.ts';
import { TestInitiator } from '../../../helpers/iscsi-initiator.ts';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;

/** Logs in and takes the POWER ON OCCURRED unit attention every new nexus gets on its first command. */
async function open(target: IscsiTarget, opts: { headerDigest?: boolean; dataDigest?: boolean } = {}): Promise<TestInitiator> {
  const ini = await TestInitiator.open(target.portal, { targetName: target.iqn, ...opts });
  assert.equal((await ini.read(0, 1)).status, 2, 'the first command reports the unit attention');
  return ini;
}

/**
 * The target recycles its read buffers (the socket's write callback gives them back) and its write
 * buffers. A buffer given back while the socket still held it would be filled by the next read
 * before the first one left: the initiator would get another read's bytes. These tests keep many
 * reads queued behind a stalled initiator so that later reads complete while earlier Data-In still
 * waits in the socket, and compare every byte. Every buffer given back is poisoned first (as glibc's
 * MALLOC_PERTURB_ does), so a buffer given back before the socket took it sends garbage at once.
 */
describe('iSCSI target buffer recycling (real file, our logical unit)', { timeout: 60_000 }, () => {
  let dir: string;
  let device: FileDevice;
  let target: IscsiTarget;
  let image: Buffer;
  /** ArrayBuffers the unit read into: fewer than the reads means buffers were reused. */
  const readIntoBuffers = new Set<ArrayBufferLike>();
  let readIntoCalls = 0;

  const give = BufferPool.prototype.give;
  before(async () => {
    BufferPool.prototype.give = function poisoned(this: BufferPool, b: Buffer) {
      b.fill(0xee);
      give.call(this, b);
    };
    dir = mkdtempSync(join(tmpdir(), 'shorthorn-recycle-'));
    device = await FileDevice.open(join(dir, 'vol.img'), SIZE);
    image = randomBytes(SIZE);
    await device.writeAt(0, image);
    const readInto = device.readInto.bind(device);
    device.readInto = (offsetBytes: number, dst: Buffer) => {
      readIntoCalls++;
      readIntoBuffers.add(dst.buffer);
      return readInto(offsetBytes, dst);
    };
    target = await startTarget({ volume: 'recycle', device, host: '127.0.0.1', port: 0, log: createLogger('recycle-test', { level: 'error' }) });
  });
  after(async () => {
    BufferPool.prototype.give = give;
    await target.close();
    await device.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const c of [{ name: 'plain', opts: {} }, { name: 'with header and data digests', opts: { headerDigest: true, dataDigest: true } }]) {
    it(`answers 40 queued 1 MiB and 4 KiB reads behind a stalled initiator with the right bytes, ${c.name}`, async () => {
      const ini = await open(target, c.opts);
      const before = readIntoCalls;
      // Stall: the target's socket fills, later reads finish while earlier Data-In is still queued.
      ini.socket.pause();
      const reads: Array<{ lba: number; blocks: number; p: Promise<{ status: number; data: Buffer }> }> = [];
      for (let i = 0; i < 40; i++) {
        const big = i % 2 === 0;
        const lba = big ? ((i * 7) % 60) * 2048 : 60 * 2048 + i * 8;
        const blocks = big ? 2048 : 8;
        reads.push({ lba, blocks, p: ini.read(lba, blocks) });
      }
      await new Promise((r) => setTimeout(r, 300));
      ini.socket.resume();
      for (const r of reads) {
        const got = await r.p;
        assert.equal(got.status, 0);
        const want = image.subarray(r.lba * 512, (r.lba + r.blocks) * 512);
        assert.ok(got.data.equals(want), `read of ${r.blocks} blocks at LBA ${r.lba} returned other bytes`);
      }
      assert.equal(readIntoCalls - before, 40, 'every READ went through readInto');
      await ini.logout();
    });
  }

  it('reuses read buffers across commands, and interleaved 4 KiB writes land intact', async () => {
    const ini = await open(target);
    const before = readIntoBuffers.size;
    const calls = readIntoCalls;
    for (let round = 0; round < 8; round++) {
      const page = randomBytes(4096);
      const lba = 40 * 2048 + round * 8; // away from the 1 MiB reads of this test
      const [w, r] = await Promise.all([ini.write(lba, page), ini.read(2048 * round, 2048)]);
      assert.equal(w, 0);
      assert.equal(r.status, 0);
      assert.ok(r.data.equals(image.subarray(2048 * round * 512, 2048 * (round + 1) * 512)));
      page.copy(image, lba * 512);
      const back = await ini.read(lba, 8);
      assert.ok(back.data.equals(page), `write ${round} read back other bytes`);
    }
    assert.equal(readIntoCalls - calls, 16);
    assert.ok(readIntoBuffers.size - before < 16, `16 reads used ${readIntoBuffers.size - before} new buffers: nothing was recycled`);
    await ini.logout();
  });
});
