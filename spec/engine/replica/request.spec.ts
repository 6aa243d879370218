import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import { decodeRequest } from '../../../engine/replica/request.ts';
import { ProtocolError } from '../../../engine/wire/errors.ts';
import { Op } from '../../../engine/wire/header.ts';
import type { Frame } from '../../../engine/wire/frame-decoder.ts';

const SIZE = 1024 * 1024;

function frame(op: number, offsetBytes: number, lengthBytes: number, payload: Buffer<ArrayBufferLike> = Buffer.alloc(0)): Frame {
  return { op, requestId: 1, offsetBytes, lengthBytes, payloadBytes: payload.length, payload };
}

function range(offset: number, length: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(offset, 4);
  b.writeUInt32BE(length, 12);
  return b;
}

type Outcome = 'ok' | 'close' | 'EINVAL' | 'ERANGE';

const cases: ReadonlyArray<{ name: string; f: Frame; want: Outcome }> = [
  { name: 'an aligned read', f: frame(Op.Read, 4096, 4096), want: 'ok' },
  { name: 'a read ending exactly at the end', f: frame(Op.Read, SIZE - 512, 512), want: 'ok' },
  { name: 'a read past the end', f: frame(Op.Read, SIZE, 512), want: 'ERANGE' },
  { name: 'a misaligned read', f: frame(Op.Read, 100, 512), want: 'EINVAL' },
  { name: 'a read longer than 4 MiB', f: frame(Op.Read, 0, 8 * 1024 * 1024), want: 'close' },
  { name: 'a read with a payload', f: frame(Op.Read, 0, 512, Buffer.alloc(1)), want: 'close' },
  { name: 'a write', f: frame(Op.Write, 0, 512, Buffer.alloc(512)), want: 'ok' },
  { name: 'a write whose length is not its payload', f: frame(Op.Write, 0, 1024, Buffer.alloc(512)), want: 'close' },
  { name: 'a misaligned write', f: frame(Op.Write, 0, 100, Buffer.alloc(100)), want: 'EINVAL' },
  { name: 'an unmap of the whole volume', f: frame(Op.Unmap, 0, SIZE), want: 'ok' },
  { name: 'a flush', f: frame(Op.Flush, 0, 0), want: 'ok' },
  { name: 'a bulk read of two ranges', f: frame(Op.ReadRanges, 0, 1024, Buffer.concat([range(0, 512), range(4096, 512)])), want: 'ok' },
  { name: 'a bulk read whose length differs from its ranges', f: frame(Op.ReadRanges, 0, 512, Buffer.concat([range(0, 512), range(4096, 512)])), want: 'close' },
  { name: 'a bulk read with a range past the end', f: frame(Op.ReadRanges, 0, 512, range(SIZE, 512)), want: 'ERANGE' },
  { name: 'a bulk read of 5000 ranges', f: frame(Op.ReadRanges, 0, 0, Buffer.alloc(5000 * 16)), want: 'close' },
  { name: 'set-rebuilding 1', f: frame(Op.SetRebuilding, 0, 0, Buffer.from([1])), want: 'ok' },
  { name: 'set-rebuilding 2', f: frame(Op.SetRebuilding, 0, 0, Buffer.from([2])), want: 'close' },
  { name: 'set-revision 42', f: frame(Op.SetRevision, 0, 0, Buffer.from('42')), want: 'ok' },
  { name: 'set-revision past 2^53', f: frame(Op.SetRevision, 0, 0, Buffer.from('9007199254740993')), want: 'EINVAL' },
  { name: 'set-extra with an empty key', f: frame(Op.SetExtra, 0, 0, Buffer.from('{"key":"","value":"x"}')), want: 'EINVAL' },
  { name: 'set-extra that is not JSON', f: frame(Op.SetExtra, 0, 0, Buffer.from('{')), want: 'EINVAL' },
  { name: 'an expand to twice the size', f: frame(Op.Expand, 2 * SIZE, 0), want: 'ok' },
  { name: 'an expand to the same size (a no-op)', f: frame(Op.Expand, SIZE, 0), want: 'ok' },
  { name: 'an expand to 16 TiB', f: frame(Op.Expand, 16 * 2 ** 40, 0), want: 'ok' },
  { name: 'an expand below the size (a shrink)', f: frame(Op.Expand, SIZE - 512, 0), want: 'EINVAL' },
  { name: 'an expand to a size not a multiple of 512', f: frame(Op.Expand, 2 * SIZE + 100, 0), want: 'EINVAL' },
  { name: 'an expand past 16 TiB', f: frame(Op.Expand, 16 * 2 ** 40 + 512, 0), want: 'EINVAL' },
  { name: 'an expand with a payload', f: frame(Op.Expand, 2 * SIZE, 0, Buffer.alloc(8)), want: 'close' },
  { name: 'an Auth after authentication', f: frame(Op.Auth, 0, 0, Buffer.alloc(64)), want: 'close' },
  { name: 'a Response sent as a request', f: frame(Op.Response, 0, 0), want: 'close' },
];

describe('decodeRequest', () => {
  for (const c of cases) {
    it(`${c.want === 'ok' ? 'accepts' : c.want === 'close' ? 'closes the connection on' : `answers ${c.want} to`} ${c.name}`, () => {
      const r = decodeRequest(c.f, SIZE, 512);
      const got: Outcome = r instanceof ProtocolError ? 'close' : E.isRight(r) ? 'ok' : (r.left.code as Outcome);
      assert.equal(got, c.want);
    });
  }
});
