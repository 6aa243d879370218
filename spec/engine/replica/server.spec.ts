import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { connectReplica, type WireReplicaConnection } from '../../../engine/wire/client.ts';
import { encodeFrame, encodeHeader } from '../../../engine/wire/encode.ts';
import { HeaderField, MAX_PAYLOAD_BYTES, Op } from '../../../engine/wire/header.ts';
import { FrameDecoder } from '../../../engine/wire/frame-decoder.ts';
import { clientProof } from '../../../engine/wire/auth.ts';
import { startReplicaServer, type ReplicaServer } from '../../../engine/replica/server.ts';
import { MemoryBackend } from '../../../engine/replica/memory-backend.ts';
import { createLogger } from '../../../api/log.ts';

const SECRET = Buffer.from('a-volume-secret-of-32-bytes-long');

/** A raw socket that has (optionally) authenticated, for sending hand-made frames. */
async function rawClient(port: number, authenticate: boolean): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  const d = new FrameDecoder(MAX_PAYLOAD_BYTES);
  const frame = async () => {
    for (;;) {
      const f = d.next();
      if (f !== null && !(f instanceof Error)) return f;
      const [chunk] = (await once(s, 'data')) as [Buffer];
      d.push(chunk);
    }
  };
  const challenge = await frame();
  if (authenticate) {
    const nonce = Buffer.alloc(32, 9);
    s.write(encodeFrame(Op.Auth, 0, 0, 0, Buffer.concat([nonce, clientProof(SECRET, challenge.payload, nonce)])));
    const ok = await frame();
    assert.equal(ok.op, Op.AuthOk);
  }
  return s;
}

describe('replica server: hostile and broken clients', { timeout: 30_000 }, () => {
  let server: ReplicaServer;
  let good: WireReplicaConnection;
  const logs: string[] = [];
  before(async () => {
    server = await startReplicaServer({ backend: new MemoryBackend(16 * 1024 * 1024, '/replicas/r9'), secret: SECRET, host: '127.0.0.1', port: 0, log: createLogger('replica', { sink: (l) => logs.push(l) }), limits: { authTimeoutMs: 300 } });
    good = await connectReplica({ host: '127.0.0.1', port: server.port, secret: SECRET });
  });
  after(async () => {
    good.close();
    await server.close();
  });

  const oversizedWrite = () => {
    const h = encodeHeader(Op.Write, 1, 0, MAX_PAYLOAD_BYTES + 512, MAX_PAYLOAD_BYTES + 512);
    return h;
  };
  const cases: ReadonlyArray<{ name: string; auth: boolean; bytes: () => Buffer; reason: RegExp }> = [
    { name: 'garbage before authenticating', auth: false, bytes: () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), reason: /bad magic/ },
    { name: 'a data op before authenticating', auth: false, bytes: () => encodeFrame(Op.Read, 1, 0, 512), reason: /Read before authentication/ },
    { name: 'a wrong proof', auth: false, bytes: () => encodeFrame(Op.Auth, 0, 0, 0, Buffer.alloc(64, 1)), reason: /wrong secret/ },
    { name: 'a big payload before authenticating', auth: false, bytes: () => encodeHeader(Op.Auth, 0, 0, 0, 1 << 20), reason: /exceeds the limit of 64/ },
    { name: 'garbage after authenticating', auth: true, bytes: () => Buffer.alloc(64, 0xee), reason: /bad magic/ },
    { name: 'an oversized write length, refused before its payload', auth: true, bytes: oversizedWrite, reason: /exceeds the limit/ },
    { name: 'a read longer than 4 MiB', auth: true, bytes: () => encodeFrame(Op.Read, 1, 0, 64 * 1024 * 1024), reason: /read of 67108864 bytes exceeds/ },
    {
      name: 'an unknown op',
      auth: true,
      bytes: () => {
        const b = encodeFrame(Op.Ping, 1, 0, 0);
        b[HeaderField.op] = 0x42;
        return b;
      },
      reason: /unknown op 0x42/,
    },
    { name: 'a response op sent as a request', auth: true, bytes: () => encodeFrame(Op.Response, 1, 0, 0), reason: /Response is not a request/ },
    { name: 'a write whose length differs from its payload', auth: true, bytes: () => encodeFrame(Op.Write, 1, 0, 1024, Buffer.alloc(512)), reason: /differs from its payload/ },
  ];
  for (const c of cases) {
    it(`closes a connection that sends ${c.name}, logs why, and keeps serving others`, async () => {
      const before = logs.length;
      const s = await rawClient(server.port, c.auth);
      const load = Promise.all(Array.from({ length: 64 }, (_, i) => good.writeAt(i * 4096, Buffer.alloc(4096, i)).then(() => good.readAt(i * 4096, 4096))));
      s.write(c.bytes());
      s.resume();
      await once(s, 'close');
      const back = await load;
      back.forEach((b, i) => assert.ok(b.equals(Buffer.alloc(4096, i))));
      assert.ok(
        logs.slice(before).some((l) => c.reason.test(l)),
        `no log line matching ${c.reason}: ${logs.slice(before).join('\n')}`,
      );
    });
  }

  it('logs a frame truncated by the peer closing, and keeps serving', async () => {
    const before = logs.length;
    const s = await rawClient(server.port, true);
    s.end(encodeFrame(Op.Write, 1, 0, 4096, Buffer.alloc(4096)).subarray(0, 100));
    s.resume();
    await once(s, 'close');
    await good.ping();
    // The server sees the close after the client does: wait for its log line.
    while (!logs.slice(before).some((l) => /truncated frame/.test(l))) await good.ping();
  });

  it('closes a connection that never authenticates, after the auth timeout', async () => {
    const before = logs.length;
    const s = await rawClient(server.port, false);
    s.resume();
    await once(s, 'close');
    assert.ok(logs.slice(before).some((l) => /authentication timed out/.test(l)));
    await good.ping();
  });

  it('fuzz: 200 authenticated connections sending mutated, truncated and padded frames never hurt the server', async () => {
    const seeds = [
      encodeFrame(Op.Read, 1, 4096, 4096),
      encodeFrame(Op.Write, 2, 8192, 1024, Buffer.alloc(1024, 3)),
      encodeFrame(Op.Unmap, 3, 0, 4096),
      encodeFrame(Op.Flush, 4, 0, 0),
      encodeFrame(Op.Info, 5, 0, 0),
      encodeFrame(Op.AllocatedRanges, 6, 0, 16 * 1024 * 1024),
      encodeFrame(Op.ReadRanges, 7, 0, 1024, Buffer.from('00000000000000000000000000000400', 'hex')),
      encodeFrame(Op.SetExtra, 8, 0, 0, Buffer.from('{"key":"k","value":"v"}')),
      encodeFrame(Op.SetRevision, 9, 0, 0, Buffer.from('77')),
      encodeFrame(Op.SetRebuilding, 10, 0, 0, Buffer.from([0])),
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat({ max: 1100 }), fc.nat({ max: 255 })), { maxLength: 6 }), fc.nat({ max: 1200 }), fc.uint8Array({ maxLength: 40 }), async (which, flips, cut, tail) => {
        const frame = Buffer.from(seeds[which] as Buffer);
        for (const [at, v] of flips) if (at < frame.length) frame[at] = v;
        const s = await rawClient(server.port, true);
        s.on('error', () => {});
        s.end(Buffer.concat([frame.subarray(0, Math.min(cut, frame.length)), Buffer.from(tail)]));
        s.resume();
        await once(s, 'close');
      }),
      { numRuns: 200 },
    );
    await good.writeAt(0, Buffer.alloc(4096, 5));
    assert.ok((await good.readAt(0, 4096)).equals(Buffer.alloc(4096, 5)));
  });

  it('serves many connections at once', async () => {
    const conns = await Promise.all(Array.from({ length: 20 }, () => connectReplica({ host: '127.0.0.1', port: server.port, secret: SECRET })));
    await Promise.all(conns.map((c, i) => c.writeAt(8 * 1024 * 1024 + i * 512, Buffer.alloc(512, i + 1))));
    const back = await Promise.all(conns.map((c, i) => c.readAt(8 * 1024 * 1024 + i * 512, 512)));
    back.forEach((b, i) => assert.ok(b.equals(Buffer.alloc(512, i + 1))));
    for (const c of conns) c.close();
  });
});
