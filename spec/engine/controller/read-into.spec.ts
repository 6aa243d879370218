import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../../engine/controller/start.ts';
import { connectReplica } from '../../../engine/wire/client.ts';
import { startReplicaServer, type ReplicaServer } from '../../../engine/replica/server.ts';
import { MemoryBackend } from '../../../engine/replica/memory-backend.ts';
import { createLogger } from '../../../api/log.ts';
import { memoryEngine } from './engine-fixture.ts';

const SECRET = Buffer.from('a-volume-secret-of-32-bytes-long');
const MiB = 1 << 20;
const log = createLogger('engine', { level: 'error' });

function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE(((seed * 0x9e3779b1) ^ i) >>> 0, i);
  return b;
}

/** A replica backend whose reads answer only after `delayMs` (a disk stalling). */
class StallingBackend extends MemoryBackend {
  delayMs = 0;
  override async read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    return super.read(offsetBytes, lengthBytes);
  }
}

async function wireEngine(backends: readonly MemoryBackend[], timeoutMs = 8000) {
  const servers: ReplicaServer[] = [];
  for (const backend of backends) servers.push(await startReplicaServer({ backend, secret: SECRET, host: '127.0.0.1', port: 0, log: createLogger('replica', { level: 'error' }) }));
  const connect = (a: string) => connectReplica({ host: '127.0.0.1', port: Number(a.slice(a.lastIndexOf(':') + 1)), secret: SECRET });
  const engine = await openEngine({ volume: 'v', sizeBytes: 8 * MiB, connect, log, timeoutMs }, servers.map((s) => s.address));
  return {
    engine,
    close: async () => {
      await engine.close();
      for (const s of servers) await s.close();
    },
  };
}

describe('Engine.readInto (the reply lands in the caller buffer)', { timeout: 30_000 }, () => {
  it('over the wire: 4 KiB to 2 MiB reads (one reply inside a socket read, or spanning many, or split by maxIoBytes) fill the caller buffer exactly', async (t) => {
    const { engine, close } = await wireEngine([new MemoryBackend(8 * MiB, '/r/a'), new MemoryBackend(8 * MiB, '/r/b')]);
    t.after(close);
    const data = pattern(8 * MiB, 1);
    await engine.writeAt(0, data);
    for (const [offset, bytes] of [[0, 4096], [512, 1024], [4096 * 3, 65536], [MiB - 512, MiB], [2 * MiB, 2 * MiB]] as const) {
      const dst = Buffer.alloc(bytes + 16, 0x77);
      await engine.readInto(offset, dst.subarray(8, 8 + bytes));
      assert.ok(dst.subarray(8, 8 + bytes).equals(data.subarray(offset, offset + bytes)), `read of ${bytes} at ${offset}`);
      assert.ok(dst.subarray(0, 8).every((x) => x === 0x77) && dst.subarray(8 + bytes).every((x) => x === 0x77), 'bytes outside dst were touched');
    }
    const many = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
      const dst = Buffer.alloc(i % 2 === 0 ? 4096 : 131072);
      const offset = (i * 131072) % (8 * MiB - dst.length);
      await engine.readInto(offset, dst);
      return dst.equals(data.subarray(offset, offset + dst.length));
    }));
    assert.deepEqual(many.filter((ok) => !ok), []);
  });

  it('over the wire: a replica whose read stalls past the timeout is set ERR and closed, and its late reply never lands in the buffer the caller got back', async (t) => {
    const slow = new StallingBackend(8 * MiB, '/r/slow');
    const { engine, close } = await wireEngine([slow, new MemoryBackend(8 * MiB, '/r/ok')], 200);
    t.after(close);
    const data = pattern(MiB, 2);
    await engine.writeAt(0, data);
    slow.delayMs = 600;
    // The first replica in the list takes the first read (ties stay where they were); it stalls.
    const dst = Buffer.alloc(MiB);
    await engine.readInto(0, dst);
    assert.ok(dst.equals(data));
    assert.equal(engine.replicas.find((h) => h.address.length > 0 && h.mode === 'ERR') !== undefined, true, 'the stalled replica is ERR');
    // The caller reuses its buffer at once; the stalled reply comes 400 ms later and must not land.
    dst.fill(0x42);
    await sleep(700);
    assert.ok(dst.every((x) => x === 0x42), 'a late reply was written into the caller buffer');
  });

  it('over a connection without readInto (in-memory replicas) it copies the reply in, and errors with EIO when no replica is left', async (t) => {
    const { engine, cluster } = await memoryEngine(2);
    t.after(() => engine.close());
    const data = pattern(256 * 1024, 3);
    await engine.writeAt(4096, data);
    const dst = Buffer.alloc(data.length);
    await engine.readInto(4096, dst);
    assert.ok(dst.equals(data));
    for (const name of ['r1', 'r2']) cluster.connOrThrow(name).faults = { fail: { ops: ['read'], error: new Error('EIO: medium error') } };
    await assert.rejects(engine.readInto(0, Buffer.alloc(4096)), /no healthy replica to read from/);
  });
});
