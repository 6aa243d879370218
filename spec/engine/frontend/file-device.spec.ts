import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDevice } from '../../../engine/frontend/file-device.ts';

describe('FileDevice', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'shorthorn-filedev-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a sparse file of the given size that reads as zeros', async () => {
    const path = join(dir, 'a.img');
    const d = await FileDevice.open(path, 8 * 1024 * 1024);
    try {
      assert.equal(statSync(path).size, 8 * 1024 * 1024);
      assert.ok(statSync(path).blocks * 512 < 1024 * 1024, 'file is sparse');
      assert.ok((await d.readAt(4096, 8192)).equals(Buffer.alloc(8192)));
    } finally {
      await d.close();
    }
  });

  it('writes, reads back, flushes, unmaps to zeros, and keeps data across reopen', async () => {
    const path = join(dir, 'b.img');
    const d = await FileDevice.open(path, 1024 * 1024);
    const data = Buffer.alloc(4096, 0x5a);
    await d.writeAt(512, data);
    await d.writeAt(8192, data, { fua: true });
    await d.flush();
    assert.ok((await d.readAt(512, 4096)).equals(data));
    await d.unmapAt(512, 1024);
    assert.ok((await d.readAt(512, 1024)).equals(Buffer.alloc(1024)));
    await d.close();
    const again = await FileDevice.open(path, 1024 * 1024);
    assert.ok((await again.readAt(8192, 4096)).equals(data));
    await again.close();
  });

  it('keeps a larger existing file as it is and grows a smaller one', async () => {
    const path = join(dir, 'c.img');
    writeFileSync(path, Buffer.alloc(4096, 1));
    const d = await FileDevice.open(path, 65536);
    assert.equal(statSync(path).size, 65536);
    assert.ok((await d.readAt(0, 512)).equals(Buffer.alloc(512, 1)));
    await d.close();
  });

  const bad: Array<{ name: string; run: (d: FileDevice) => Promise<unknown>; code: string }> = [
    { name: 'a read past the end', run: (d) => d.readAt(65536 - 512, 1024), code: 'ERANGE' },
    { name: 'a write past the end', run: (d) => d.writeAt(65536, Buffer.alloc(512)), code: 'ERANGE' },
    { name: 'a negative offset', run: (d) => d.readAt(-512, 512), code: 'ERANGE' },
    { name: 'a shrink', run: (d) => d.resize(512), code: 'EINVAL' },
  ];
  for (const c of bad) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      const d = await FileDevice.open(join(dir, 'd.img'), 65536);
      try {
        await assert.rejects(c.run(d), (e: Error & { code?: string }) => e.code === c.code);
      } finally {
        await d.close();
      }
    });
  }

  it('refuses a size that is not a positive multiple of 512', async () => {
    await assert.rejects(FileDevice.open(join(dir, 'e.img'), 1000), (e: Error & { code?: string }) => e.code === 'EINVAL');
  });

  it('grows on resize and tells subscribers (the logical unit raises a capacity-changed unit attention)', async () => {
    const d = await FileDevice.open(join(dir, 'f.img'), 65536);
    const seen: number[] = [];
    const off = d.onResize((n) => seen.push(n));
    await d.resize(131072);
    off();
    await d.resize(262144);
    assert.deepEqual(seen, [131072]);
    assert.equal(d.sizeBytes, 262144);
    assert.ok((await d.readAt(200000, 512)).equals(Buffer.alloc(512)));
    await d.close();
  });
});
