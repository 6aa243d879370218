import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder, type Frame } from '../../../engine/wire/frame-decoder.ts';
import { encodeFrame } from '../../../engine/wire/encode.ts';
import { HEADER_BYTES, HeaderField, MAX_PAYLOAD_BYTES, Op } from '../../../engine/wire/header.ts';
import { ProtocolError } from '../../../engine/wire/errors.ts';

interface Spec {
  readonly op: number;
  readonly requestId: number;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly payload: Buffer;
}

function patterned(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const frames: readonly Spec[] = [
  { op: Op.Ping, requestId: 1, offsetBytes: 0, lengthBytes: 0, payload: Buffer.alloc(0) },
  { op: Op.Read, requestId: 0xffffffff, offsetBytes: 16 * 2 ** 40 - 4096, lengthBytes: 4096, payload: Buffer.alloc(0) },
  { op: Op.Write, requestId: 7, offsetBytes: 512, lengthBytes: 1024, payload: patterned(1024, 3) },
  { op: Op.Response, requestId: 9, offsetBytes: 0, lengthBytes: 1, payload: patterned(1, 9) },
  { op: Op.Error, requestId: 2, offsetBytes: 0, lengthBytes: 0, payload: Buffer.from([0, 28, 0x6e, 0x6f]) },
  { op: Op.Unmap, requestId: 3, offsetBytes: Number.MAX_SAFE_INTEGER, lengthBytes: Number.MAX_SAFE_INTEGER, payload: Buffer.alloc(0) },
];

function encode(s: Spec): Buffer {
  return encodeFrame(s.op, s.requestId, s.offsetBytes, s.lengthBytes, s.payload);
}

/** Feeds chunks and collects frames (copying nothing: payloads must survive later pushes). */
function feed(chunks: readonly Buffer[], max = MAX_PAYLOAD_BYTES): { frames: Frame[]; error: ProtocolError | null } {
  const d = new FrameDecoder(max);
  const out: Frame[] = [];
  for (const c of chunks) {
    d.push(c);
    for (;;) {
      const f = d.next();
      if (f === null) break;
      if (f instanceof ProtocolError) return { frames: out, error: f };
      out.push(f);
    }
  }
  return { frames: out, error: null };
}

/** `wire` cut into chunks at the given points (taken modulo its length, deduplicated, in order). */
function cutAt(wire: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(wire.subarray(prev, p));
    prev = p;
  }
  chunks.push(wire.subarray(prev));
  return chunks;
}

function assertSame(got: Frame | undefined, want: Spec): void {
  assert.ok(got !== undefined, 'frame missing');
  assert.equal(got.op, want.op);
  assert.equal(got.requestId, want.requestId);
  assert.equal(got.offsetBytes, want.offsetBytes);
  assert.equal(got.lengthBytes, want.lengthBytes);
  assert.equal(got.payloadBytes, want.payload.length);
  assert.ok(got.payload.equals(want.payload), 'payload differs');
}

describe('FrameDecoder', () => {
  for (const s of frames) {
    it(`decodes op 0x${s.op.toString(16)} (${s.payload.length}-byte payload) split at every byte offset`, () => {
      const wire = encode(s);
      for (let cut = 0; cut <= wire.length; cut++) {
        const r = feed([wire.subarray(0, cut), wire.subarray(cut)]);
        assert.equal(r.error, null);
        assert.equal(r.frames.length, 1, `cut at ${cut}`);
        assertSame(r.frames[0], s);
      }
    });
  }

  it('decodes every frame when all are packed into one chunk, and split one byte at a time', () => {
    const wire = Buffer.concat(frames.map(encode));
    const whole = feed([wire]);
    assert.equal(whole.frames.length, frames.length);
    frames.forEach((s, i) => assertSame(whole.frames[i], s));
    const bytes = feed([...wire].map((b) => Buffer.from([b])));
    assert.equal(bytes.frames.length, frames.length);
    frames.forEach((s, i) => assertSame(bytes.frames[i], s));
  });

  it('decodes the packed stream split at every pair of offsets (three chunks)', () => {
    const wire = Buffer.concat(frames.slice(0, 4).map(encode));
    for (let a = 0; a <= wire.length; a += 7) {
      for (let b = a; b <= wire.length; b += 5) {
        const r = feed([wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)]);
        assert.equal(r.frames.length, 4, `cuts ${a}/${b}`);
        frames.slice(0, 4).forEach((s, i) => assertSame(r.frames[i], s));
      }
    }
  });

  it('decodes every frame when several chunks are pushed before draining', () => {
    const wire = Buffer.concat([...frames, ...frames].map(encode));
    for (const step of [1, 5, 33, 100, 1000]) {
      const d = new FrameDecoder(MAX_PAYLOAD_BYTES);
      const out: Frame[] = [];
      for (let at = 0, k = 0; at < wire.length; at += step, k++) {
        d.push(wire.subarray(at, at + step));
        if (k % 3 !== 2) continue;
        for (let f = d.next(); f !== null; f = d.next()) {
          assert.ok(!(f instanceof ProtocolError), String(f));
          out.push(f);
        }
      }
      for (let f = d.next(); f !== null; f = d.next()) {
        assert.ok(!(f instanceof ProtocolError), String(f));
        out.push(f);
      }
      assert.equal(out.length, 2 * frames.length, `step ${step}`);
      [...frames, ...frames].forEach((s, i) => assertSame(out[i], s));
    }
  });

  it('keeps handed-out payloads intact while later chunks are buffered and compacted', () => {
    const big = { op: Op.Write, requestId: 5, offsetBytes: 0, lengthBytes: 200_000, payload: patterned(200_000, 5) };
    const wire = Buffer.concat([encode(frames[2] as Spec), encode(big), encode(frames[2] as Spec)]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < wire.length; at += 1000) chunks.push(wire.subarray(at, at + 1000));
    const r = feed(chunks);
    assert.equal(r.frames.length, 3);
    assertSame(r.frames[0], frames[2] as Spec);
    assertSame(r.frames[1], big);
    assertSame(r.frames[2], frames[2] as Spec);
  });

  const bad: ReadonlyArray<{ name: string; bytes: () => Buffer; max?: number; match: RegExp }> = [
    { name: 'a bad first magic byte, from one byte', bytes: () => Buffer.from([0x47]), match: /bad magic/ },
    { name: 'a bad second magic byte', bytes: () => Buffer.from([0x53, 0x00]), match: /bad magic/ },
    { name: 'an HTTP request', bytes: () => Buffer.from('GET / HTTP/1.1\r\n\r\n'), match: /bad magic/ },
    { name: 'another protocol version', bytes: () => Buffer.from([0x53, 0x48, 0x02]), match: /version 2/ },
    {
      name: 'an unknown op',
      bytes: () => {
        const b = encode(frames[0] as Spec);
        b[HeaderField.op] = 0x7f;
        return b;
      },
      match: /unknown op 0x7f/,
    },
    {
      name: 'a payload length past the cap, before any payload arrives',
      bytes: () => {
        const b = encode(frames[0] as Spec);
        b.writeUInt32BE(MAX_PAYLOAD_BYTES + 1, HeaderField.payloadBytes);
        return b;
      },
      match: /exceeds the limit/,
    },
    { name: 'a payload past a pre-authentication cap', bytes: () => encode(frames[2] as Spec), max: 64, match: /1024 bytes exceeds the limit of 64/ },
    {
      name: 'an offset beyond 2^53',
      bytes: () => {
        const b = encode(frames[0] as Spec);
        b.writeUInt32BE(0xffffffff, HeaderField.offsetBytes);
        return b;
      },
      match: /beyond 2\^53/,
    },
    {
      name: 'a non-zero reserved field',
      bytes: () => {
        const b = encode(frames[0] as Spec);
        b.writeUInt32BE(1, HeaderField.reserved);
        return b;
      },
      match: /reserved/,
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => {
      const r = feed([c.bytes()], c.max);
      assert.equal(r.frames.length, 0);
      assert.ok(r.error instanceof ProtocolError);
      assert.match(r.error.message, c.match);
    });
  }

  it('stays failed after an error', () => {
    const d = new FrameDecoder(MAX_PAYLOAD_BYTES);
    d.push(Buffer.from('xx'));
    assert.ok(d.next() instanceof ProtocolError);
    d.push(encode(frames[0] as Spec));
    assert.ok(d.next() instanceof ProtocolError);
  });

  it('waits for a truncated frame without yielding it', () => {
    const wire = encode(frames[2] as Spec);
    const r = feed([wire.subarray(0, HEADER_BYTES + 10)]);
    assert.equal(r.error, null);
    assert.equal(r.frames.length, 0);
  });

  it('fuzz: random bytes never throw and never yield a frame past the caps', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 8 }), fc.boolean(), (chunks, withMagic) => {
        const bufs = chunks.map((c) => Buffer.from(c));
        if (withMagic && bufs[0] !== undefined && bufs[0].length >= 3) bufs[0].set([0x53, 0x48, 0x01]);
        const r = feed(bufs, 1024);
        for (const f of r.frames) assert.ok(f.payload.length <= 1024);
      }),
      { numRuns: 3000 },
    );
  });

  it('fuzz: any sequence of valid frames, chunked anyhow, decodes to the same frames', () => {
    const frameArb = fc.record({
      op: fc.constantFrom(...Object.values(Op)),
      requestId: fc.nat({ max: 0xffffffff }),
      offsetBytes: fc.maxSafeNat(),
      lengthBytes: fc.maxSafeNat(),
      payload: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat({ max: 400 }), { maxLength: 10 }), (specs, cuts) => {
        const wire = Buffer.concat(specs.map(encode));
        const chunks = cutAt(wire, cuts);
        const r = feed(chunks);
        assert.equal(r.error, null);
        assert.equal(r.frames.length, specs.length);
        specs.forEach((s, i) => assertSame(r.frames[i], s));
      }),
      { numRuns: 500 },
    );
  });

  it('fuzz: payloads of 4 KiB and more spanning chunks are assembled in buffers from the source, one exact-size buffer each', () => {
    const frameArb = fc.record({
      op: fc.constantFrom(Op.Write, Op.Response, Op.Ping),
      requestId: fc.nat({ max: 0xffffffff }),
      payloadBytes: fc.oneof(fc.nat({ max: 64 }), fc.integer({ min: 4090, max: 20_000 })),
      seed: fc.nat({ max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (raw, cuts, drainLate) => {
        const specs: Spec[] = raw.map((r) => ({ op: r.op, requestId: r.requestId, offsetBytes: 0, lengthBytes: r.payloadBytes, payload: patterned(r.payloadBytes, r.seed) }));
        const wire = Buffer.concat(specs.map(encode));
        const chunks = cutAt(wire, cuts);
        const given: Buffer[] = [];
        const d = new FrameDecoder(MAX_PAYLOAD_BYTES, {
          payloadBuffer: (n) => {
            const b = Buffer.alloc(n, 0xee);
            given.push(b);
            return b;
          },
        });
        const out: Frame[] = [];
        const drain = () => {
          for (let f = d.next(); f !== null; f = d.next()) {
            assert.ok(!(f instanceof ProtocolError), String(f));
            // Copy what we got, then scribble over a source buffer as a pool reusing it would.
            out.push({ ...f, payload: Buffer.from(f.payload) });
            if (f.fromSource === true) {
              assert.ok(given.includes(f.payload), 'a fromSource payload is a buffer the source gave');
              f.payload.fill(0xdd);
            }
          }
        };
        for (const c of chunks) {
          d.push(c);
          if (!drainLate) drain();
        }
        drain();
        assert.equal(d.bufferedBytes, 0);
        assert.equal(out.length, specs.length);
        specs.forEach((sp, i) => assertSame(out[i], sp));
        // Every source buffer was of an exact payload size, and each went to one frame.
        for (const b of given) assert.ok(specs.some((sp) => sp.payload.length === b.length));
        assert.ok(given.length <= specs.length);
      }),
      { numRuns: 500 },
    );
  });

  it('fills a 1 MiB payload in place from 64 KiB chunks, counting what it holds, and copies it nowhere else', () => {
    const big: Spec = { op: Op.Write, requestId: 11, offsetBytes: 1 << 20, lengthBytes: 1 << 20, payload: patterned(1 << 20, 11) };
    const wire = Buffer.concat([encode(frames[0] as Spec), encode(big), encode(frames[2] as Spec)]);
    let sourced: Buffer | undefined;
    const d = new FrameDecoder(MAX_PAYLOAD_BYTES, { payloadBuffer: (n) => (sourced = Buffer.allocUnsafe(n)) });
    const got: Frame[] = [];
    for (let at = 0; at < wire.length; at += 65536) {
      d.push(wire.subarray(at, at + 65536));
      for (let f = d.next(); f !== null; f = d.next()) {
        assert.ok(!(f instanceof ProtocolError));
        got.push(f);
      }
      if (got.length === 1 && at + 65536 < wire.length) assert.equal(d.bufferedBytes, Math.min(wire.length, at + 65536) - encode(frames[0] as Spec).length);
    }
    assert.equal(got.length, 3);
    assertSame(got[1], big);
    assert.equal(got[1]?.payload, sourced, 'the payload is the source buffer itself');
    assert.equal(got[1]?.fromSource, true);
    assertSame(got[2], frames[2] as Spec);
  });

  it('fuzz: read through one reused buffer (copyPayloads + endChunk), every frame comes out intact though the buffer is overwritten after each read', () => {
    const frameArb = fc.record({
      op: fc.constantFrom(Op.Write, Op.Response, Op.Ping, Op.Read),
      requestId: fc.nat({ max: 0xffffffff }),
      payloadBytes: fc.oneof(fc.constant(0), fc.nat({ max: 100 }), fc.integer({ min: 4000, max: 9000 })),
      seed: fc.nat({ max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (raw, reads) => {
        const specs: Spec[] = raw.map((r) => ({ op: r.op, requestId: r.requestId, offsetBytes: 0, lengthBytes: r.payloadBytes, payload: r.op === Op.Read ? Buffer.alloc(0) : patterned(r.payloadBytes, r.seed) }));
        const wire = Buffer.concat(specs.map(encode));
        const rx = Buffer.alloc(5000);
        const d = new FrameDecoder(MAX_PAYLOAD_BYTES, { copyPayloads: true });
        const out: Frame[] = [];
        let at = 0;
        for (let i = 0; at < wire.length; i++) {
          const n = Math.min(reads[i % reads.length] as number, wire.length - at);
          wire.copy(rx, 0, at, at + n);
          at += n;
          d.push(rx.subarray(0, n));
          for (let f = d.next(); f !== null; f = d.next()) {
            assert.ok(!(f instanceof ProtocolError), String(f));
            if (f.payload.length > 0) assert.notEqual(f.payload.buffer, rx.buffer, 'a payload shares the receive buffer');
            out.push(f);
          }
          d.endChunk();
          rx.fill(0xa5); // the next read overwrites everything
        }
        assert.equal(d.bufferedBytes, 0);
        assert.equal(out.length, specs.length);
        specs.forEach((sp, i) => assertSame(out[i], sp));
      }),
      { numRuns: 500 },
    );
  });

  it('without endChunk, a frame left incomplete in a reused buffer is corrupted (what endChunk is for)', () => {
    const spec = frames[2] as Spec;
    const wire = encode(spec);
    const rx = Buffer.alloc(wire.length);
    const d = new FrameDecoder(MAX_PAYLOAD_BYTES, { copyPayloads: true });
    wire.copy(rx, 0, 0, 20);
    d.push(rx.subarray(0, 20));
    assert.equal(d.next(), null);
    rx.fill(0xa5);
    wire.copy(rx, 0, 20);
    d.push(rx.subarray(0, wire.length - 20));
    const f = d.next();
    assert.ok(f instanceof ProtocolError || (f !== null && !f.payload.equals(spec.payload)));
  });
});

