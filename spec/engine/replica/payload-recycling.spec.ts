import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectReplica, type WireReplicaConnection } from '../../../engine/wire/client.ts';
import { startReplicaServer, type ReplicaServer } from '../../../engine/replica/server.ts';
import { MemoryBackend } from '../../../engine/replica/memory-backend.ts';
import { BufferPool } from '../../../engine/io/buffer-pool.ts';
import { createLogger } from '../../../api/log.ts';

/**
 * The replica session takes the buffers that large write payloads are assembled in from a pool and
 * gives each back when the backend's write has settled (ReplicaBackend.write may hold `data` until
 * then). This backend holds it: it waits a little before copying, as a store waiting on a block
 * being allocated does. Every buffer given back is poisoned first (as glibc's MALLOC_PERTURB_
 * does), so a payload given back before its write settled would be stored as 0xEE bytes.
 */
class SlowCopyBackend extends MemoryBackend {
  private n = 0;
  /** Reads into the server's pooled buffers (as the on-disk store does). */
  async readInto(offsetBytes: number, out: Buffer): Promise<void> {
    if (this.n++ % 2 === 0) await new Promise((r) => setTimeout(r, 1));
    (await this.read(offsetBytes, out.length)).copy(out);
  }

  override async write(offsetBytes: number, data: Buffer): Promise<void> {
    const waits = this.n++ % 3;
    for (let i = 0; i < waits; i++) await new Promise((r) => setTimeout(r, 1));
    return super.write(offsetBytes, data);
  }
}

const SECRET = Buffer.from('a-volume-secret-of-32-bytes-long');
const SIZES = [4096, 65536, 300 * 1024, 1 << 20];

function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE(((seed * 0x9e3779b1) ^ i) >>> 0, i);
  return b;
}

describe('replica server: recycled write payloads', { timeout: 60_000 }, () => {
  let server: ReplicaServer;
  let conn: WireReplicaConnection;
  const give = BufferPool.prototype.give;
  let given = 0;
  before(async () => {
    BufferPool.prototype.give = function (this: BufferPool, b: Buffer) {
      given++;
      b.fill(0xee);
      give.call(this, b);
    };
    server = await startReplicaServer({ backend: new SlowCopyBackend(64 << 20, '/replicas/slow'), secret: SECRET, host: '127.0.0.1', port: 0, log: createLogger('replica', { level: 'error' }) });
    conn = await connectReplica({ host: '127.0.0.1', port: server.port, secret: SECRET });
  });
  after(async () => {
    BufferPool.prototype.give = give;
    conn.close();
    await server.close();
  });

  it('stores every byte of 4 KiB to 1 MiB writes sent all at once, while their buffers are given back and reused', async () => {
    for (let round = 0; round < 3; round++) {
      const writes = Array.from({ length: 48 }, (_, i) => ({ offset: i * (1 << 20), data: pattern(SIZES[i % SIZES.length] as number, round * 100 + i) }));
      await Promise.all(writes.map((w) => conn.writeAt(w.offset, w.data)));
      for (const w of writes) {
        const back = await conn.readAt(w.offset, w.data.length);
        assert.ok(back.equals(w.data), `write of ${w.data.length} bytes at ${w.offset} (round ${round}) came back different`);
      }
    }
    // The large payloads spanned socket reads, so they were assembled in pooled buffers and given back.
    assert.ok(given >= 48, `only ${given} payload buffers were given back`);
  });

  it('answers 4 KiB to 1 MiB reads in flight all at once from pooled buffers, each given back only once the socket is done with it', async () => {
    const writes = Array.from({ length: 48 }, (_, i) => ({ offset: i * (1 << 20), data: pattern(SIZES[(i + 1) % SIZES.length] as number, 7000 + i) }));
    for (const w of writes) await conn.writeAt(w.offset, w.data);
    const before = given;
    for (let round = 0; round < 3; round++) {
      // 48 reads of up to 1 MiB at once: far more than the socket buffers hold, so replies wait in
      // the socket's queue while later reads take buffers from the pool.
      const backs = await Promise.all(writes.map((w) => conn.readAt(w.offset, w.data.length)));
      writes.forEach((w, i) => assert.ok(backs[i]?.equals(w.data), `read of ${w.data.length} bytes at ${w.offset} (round ${round}) came back different`));
    }
    assert.ok(given - before >= 3 * 48, `only ${given - before} read buffers were given back`);
  });
});
