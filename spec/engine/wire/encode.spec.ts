import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import { INLINE_FRAME_BYTES, encodeErrorPayload, encodeFrame, encodeHeader, encodeRanges, isInlinePayload } from '../../../engine/wire/encode.ts';
import { HEADER_BYTES, HeaderField, MAGIC, Op, VERSION, readSafeU64, writeU64 } from '../../../engine/wire/header.ts';
import { decodeErrorPayload, decodeInfo, decodeRanges, decodeRevision, decodeSetExtra } from '../../../engine/wire/payloads.ts';

describe('wire header and payload encoding', () => {
  it('copies a payload into the frame only while the frame comes from the shared slab (smaller than 4 KiB)', () => {
    assert.equal(INLINE_FRAME_BYTES, 4096);
    assert.equal(isInlinePayload(0), true);
    assert.equal(isInlinePayload(4096 - HEADER_BYTES - 1), true);
    assert.equal(isInlinePayload(4096 - HEADER_BYTES), false);
    assert.equal(isInlinePayload(4096), false);
    // What the rule is for: an inline frame shares a pooled ArrayBuffer, a 4 KiB+ one would not.
    const small = encodeFrame(Op.Write, 1, 0, 512, Buffer.alloc(512, 7));
    assert.ok(small.buffer.byteLength > small.length);
    assert.equal(encodeFrame(Op.Write, 1, 0, 4096, Buffer.alloc(4096)).buffer.byteLength, 4096 + HEADER_BYTES);
  });

  it('lays the header out big-endian, magic and version first, 32 bytes', () => {
    const h = encodeHeader(Op.Write, 0x01020304, 0x0102030405, 0x0a0b, 0x0c0d);
    assert.equal(HEADER_BYTES, 32);
    assert.equal(h.length, HEADER_BYTES);
    assert.equal(h.toString('hex'), ['5348', '01', '11', '01020304', '0000000102030405', '0000000000000a0b', '00000c0d', '00000000'].join(''));
    assert.equal(h.readUInt16BE(HeaderField.magic), MAGIC);
    assert.equal(h[HeaderField.version], VERSION);
  });

  const u64s = [0, 1, 2 ** 32 - 1, 2 ** 32, 16 * 2 ** 40, Number.MAX_SAFE_INTEGER];
  for (const v of u64s) {
    it(`round-trips u64 ${v}`, () => {
      const b = Buffer.alloc(8);
      writeU64(b, 0, v);
      assert.equal(readSafeU64(b, 0), v);
    });
  }

  it('reads a u64 beyond 2^53 as -1', () => {
    assert.equal(readSafeU64(Buffer.from('0020000000000000', 'hex'), 0), -1);
  });

  const errors = [
    { code: 'ENOSPC', message: 'replica /data/r1: no space left on device (ENOSPC)' },
    { code: 'EIO', message: '' },
    { code: 'EINVAL', message: 'ünïcödé' },
  ] as const;
  for (const e of errors) {
    it(`round-trips an ${e.code} error payload`, () => {
      assert.deepEqual(decodeErrorPayload(encodeErrorPayload(e.code, e.message)), E.right({ code: e.code, message: e.message }));
    });
  }

  it('round-trips ranges and refuses a ragged ranges payload', () => {
    const ranges = [
      { offsetBytes: 0, lengthBytes: 4096 },
      { offsetBytes: 16 * 2 ** 40 - 4096, lengthBytes: 4096 },
    ];
    assert.deepEqual(decodeRanges(encodeRanges(ranges)), E.right(ranges));
    assert.ok(E.isLeft(decodeRanges(Buffer.alloc(17))));
  });

  const payloads: ReadonlyArray<{ name: string; run: () => E.Either<unknown, unknown>; ok: boolean }> = [
    { name: 'an info reply', ok: true, run: () => decodeInfo(Buffer.from(JSON.stringify({ replicaId: 'x', sizeBytes: 1, sectorBytes: 512, revision: '3', chain: ['h'], dirty: false, rebuilding: false, extras: {} }))) },
    { name: 'an info reply missing the revision', ok: false, run: () => decodeInfo(Buffer.from(JSON.stringify({ replicaId: 'x' }))) },
    { name: 'an info reply that is not JSON', ok: false, run: () => decodeInfo(Buffer.from('{')) },
    { name: 'a set-extra request', ok: true, run: () => decodeSetExtra(Buffer.from('{"key":"k","value":null}')) },
    { name: 'a set-extra request with a number value', ok: false, run: () => decodeSetExtra(Buffer.from('{"key":"k","value":3}')) },
    { name: 'a decimal revision', ok: true, run: () => decodeRevision(Buffer.from('18446744073709551615')) },
    { name: 'a revision with a sign', ok: false, run: () => decodeRevision(Buffer.from('-1')) },
    { name: 'a revision with a leading zero', ok: false, run: () => decodeRevision(Buffer.from('01')) },
  ];
  for (const p of payloads) {
    it(`${p.ok ? 'accepts' : 'refuses'} ${p.name}`, () => {
      assert.equal(E.isRight(p.run()), p.ok);
    });
  }
});
