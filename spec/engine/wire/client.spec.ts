import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connectReplica, type WireReplicaConnection } from '../../../engine/wire/client.ts';
import { ReplicaError, TransportError, ProtocolError } from '../../../engine/wire/errors.ts';
import { encodeFrame } from '../../../engine/wire/encode.ts';
import { Op } from '../../../engine/wire/header.ts';
import { startReplicaServer, type ReplicaServer } from '../../../engine/replica/server.ts';
import { MemoryBackend } from '../../../engine/replica/memory-backend.ts';
import type { ReplicaBackend } from '../../../engine/replica/backend.ts';
import { createLogger } from '../../../api/log.ts';

const SECRET = Buffer.from('a-volume-secret-of-32-bytes-long');
const SIZE = 64 * 1024 * 1024;

function sectors(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n * 512);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32BE((seed * 2654435761 + i) >>> 0, i);
  return b;
}

/** A backend whose reads wait until released: lets later requests overtake earlier ones. */
class GatedBackend extends MemoryBackend {
  private gates: Array<() => void> = [];
  gated = false;
  override async read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    if (this.gated) await new Promise<void>((r) => this.gates.push(r));
    return super.read(offsetBytes, lengthBytes);
  }
  get waiting(): number {
    return this.gates.length;
  }
  release(): void {
    for (const g of this.gates.splice(0)) g();
  }
}

describe('connectReplica (wire client) against the replica server', { timeout: 30_000 }, () => {
  let server: ReplicaServer;
  let backend: GatedBackend;
  let c: WireReplicaConnection;
  const logs: string[] = [];

  before(async () => {
    backend = new GatedBackend(SIZE, '/replicas/r1');
    server = await startReplicaServer({ backend, secret: SECRET, host: '127.0.0.1', port: 0, log: createLogger('replica', { sink: (l) => logs.push(l) }) });
    c = await connectReplica({ host: '127.0.0.1', port: server.port, secret: SECRET });
  });
  after(async () => {
    c.close();
    await server.close();
  });

  it('reads back what it wrote, and zeros where nothing was written', async () => {
    const data = sectors(8, 1);
    await c.writeAt(8192, data);
    assert.ok((await c.readAt(8192, data.length)).equals(data));
    assert.ok((await c.readAt(1024 * 1024, 4096)).equals(Buffer.alloc(4096)));
  });

  it('keeps 256 pipelined writes and reads in flight and matches each reply to its request', async () => {
    const n = 256;
    const writes = Array.from({ length: n }, (_, i) => c.writeAt(i * 4096, sectors(8, 100 + i)));
    assert.equal(c.inFlight, n);
    await Promise.all(writes);
    const reads = await Promise.all(Array.from({ length: n }, (_, i) => c.readAt(i * 4096, 4096)));
    reads.forEach((r, i) => assert.ok(r.equals(sectors(8, 100 + i)), `block ${i}`));
  });

  it('resolves replies that come back out of order', async () => {
    await c.writeAt(0, sectors(1, 7));
    backend.gated = true;
    const slow = c.readAt(0, 512);
    const order: string[] = [];
    void slow.then(() => order.push('read'));
    await c.ping();
    order.push('ping');
    await c.writeAt(512, sectors(1, 8));
    order.push('write');
    assert.equal(backend.waiting, 1);
    backend.gated = false;
    backend.release();
    assert.ok((await slow).equals(sectors(1, 7)));
    assert.deepEqual(order, ['ping', 'write', 'read']);
  });

  it('honours backpressure: 48 concurrent 1 MiB writes all land', async () => {
    const n = 48;
    await Promise.all(Array.from({ length: n }, (_, i) => c.writeAt(i * 1024 * 1024, sectors(2048, 500 + i))));
    const back = await Promise.all(Array.from({ length: n }, (_, i) => c.readAt(i * 1024 * 1024, 1024 * 1024)));
    back.forEach((b, i) => assert.ok(b.equals(sectors(2048, 500 + i)), `MiB ${i}`));
  });

  it('unmaps: reads return zeros after', async () => {
    await c.writeAt(3 * 4096, sectors(8, 9));
    await c.unmapAt(3 * 4096, 4096);
    assert.ok((await c.readAt(3 * 4096, 4096)).equals(Buffer.alloc(4096)));
  });

  it('reports info and keeps extras, revision and the rebuilding flag', async () => {
    await c.setExtra('missed/r2', '0-4096');
    await c.setRevision('42');
    await c.setRebuilding(true);
    const info = await c.info();
    assert.equal(info.sizeBytes, SIZE);
    assert.equal(info.sectorBytes, 512);
    assert.equal(info.revision, '42');
    assert.equal(info.rebuilding, true);
    assert.deepEqual(info.extras, { 'missed/r2': '0-4096' });
    await c.setExtra('missed/r2', null);
    await c.setRebuilding(false);
    const again = await c.info();
    assert.deepEqual(again.extras, {});
    assert.equal(again.rebuilding, false);
    await c.flush();
  });

  it('lists allocated ranges and reads ranges in bulk', async () => {
    const base = 60 * 1024 * 1024; // past the 48 MiB the backpressure test wrote
    await c.writeAt(base, sectors(2, 1));
    await c.writeAt(base + 8192, sectors(1, 2));
    const ranges = await c.allocatedRanges(base, 1024 * 1024);
    assert.deepEqual(ranges, [
      { offsetBytes: base, lengthBytes: 1024 },
      { offsetBytes: base + 8192, lengthBytes: 512 },
    ]);
    const bulk = await c.readRanges(ranges);
    assert.ok(bulk.equals(Buffer.concat([sectors(2, 1), sectors(1, 2)])));
  });

  const refusals = [
    { name: 'a read past the end', run: () => c.readAt(SIZE, 512), code: 'ERANGE' },
    { name: 'a misaligned write', run: () => c.writeAt(100, Buffer.alloc(512)), code: 'EINVAL' },
    { name: 'a read larger than 4 MiB', run: () => c.readAt(0, 8 * 1024 * 1024), code: 'EINVAL' },
    { name: 'a negative offset', run: () => c.readAt(-512, 512), code: 'EINVAL' },
  ] as const;
  for (const r of refusals) {
    it(`answers ${r.name} with ${r.code} and stays usable`, async () => {
      await assert.rejects(r.run(), (e: unknown) => e instanceof ReplicaError && e.code === r.code);
      await c.ping();
    });
  }

  it('turns a disk-full write into an ENOSPC error that names the replica', async () => {
    backend.failNext = 'ENOSPC';
    await assert.rejects(c.writeAt(0, Buffer.alloc(512)), (e: unknown) => e instanceof ReplicaError && e.code === 'ENOSPC' && /\/replicas\/r1/.test(e.message));
    await c.writeAt(0, Buffer.alloc(512));
  });

  it('is refused with EACCES for a wrong secret, logged, while a good client keeps working', async () => {
    const before = logs.length;
    const busy = Promise.all(Array.from({ length: 50 }, (_, i) => c.writeAt(i * 512, sectors(1, i))));
    await assert.rejects(connectReplica({ host: '127.0.0.1', port: server.port, secret: 'not-the-volume-secret' }), (e: unknown) => e instanceof ReplicaError && e.code === 'EACCES');
    await busy;
    assert.ok(logs.slice(before).some((l) => /connection refused/.test(l) && /wrong secret/.test(l)));
  });

  it('rejects every pending call with TransportError when the connection dies, and resolves closed', async () => {
    const c2 = await connectReplica({ host: '127.0.0.1', port: server.port, secret: SECRET });
    backend.gated = true;
    const pending = [c2.readAt(0, 512), c2.readAt(512, 512), c2.readAt(1024, 512)];
    while (backend.waiting < 3) await c2.ping();
    c2.close();
    for (const p of pending) await assert.rejects(p, TransportError);
    assert.ok((await c2.closed) instanceof TransportError);
    await assert.rejects(c2.ping(), TransportError);
    backend.gated = false;
    backend.release();
  });

  it('fails with TransportError when nothing listens', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await assert.rejects(connectReplica({ host: '127.0.0.1', port, secret: SECRET }), TransportError);
  });
});

describe('connectReplica against an impostor', () => {
  it('refuses a server that cannot prove the secret', async () => {
    const s = createServer((sock) => {
      sock.write(encodeFrame(Op.Challenge, 0, 0, 0, Buffer.alloc(32, 1)));
      sock.once('data', () => sock.write(encodeFrame(Op.AuthOk, 0, 0, 0, Buffer.alloc(32, 2))));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      await assert.rejects(connectReplica({ host: '127.0.0.1', port: (s.address() as AddressInfo).port, secret: SECRET }), (e: unknown) => e instanceof ProtocolError && /could not prove/.test(e.message));
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('times out a server that never challenges', async () => {
    const s = createServer(() => {});
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      await assert.rejects(connectReplica({ host: '127.0.0.1', port: (s.address() as AddressInfo).port, secret: SECRET, timeoutMs: 200 }), (e: unknown) => e instanceof TransportError && /timed out/.test(e.message));
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
