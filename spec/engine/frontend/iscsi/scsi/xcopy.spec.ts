import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { blocksOf, cdb, rig, senseOf, type Rig } from './harness.ts';

/** The NAA designator of the unit, from VPD 83h. */
async function naa(r: Rig): Promise<Buffer> {
  const p = (await r.run(cdb(6, 0x12, 1, 0x83, 0, 255))).dataIn ?? Buffer.alloc(0);
  return Buffer.from(p.subarray(4, 4 + 4 + (p[7] ?? 0)));
}

function targetDescriptor(designator: Buffer, flags = 0, type = 0xe4): Buffer {
  const d = Buffer.alloc(32);
  d[0] = type;
  d[1] = flags;
  designator.copy(d, 4);
  d.writeUIntBE(512, 29, 3);
  return d;
}

function segment(src: number, dst: number, blocks: number, srcLba: number, dstLba: number, type = 0x02): Buffer {
  const s = Buffer.alloc(28);
  s[0] = type;
  s.writeUInt16BE(24, 2);
  s.writeUInt16BE(src, 4);
  s.writeUInt16BE(dst, 6);
  s.writeUInt16BE(blocks, 10);
  s.writeBigUInt64BE(BigInt(srcLba), 12);
  s.writeBigUInt64BE(BigInt(dstLba), 20);
  return s;
}

function list(targets: Buffer[], segments: Buffer[], listId = 1, usage = 0): Buffer {
  const h = Buffer.alloc(16);
  h[0] = listId;
  h[1] = usage << 3;
  const t = Buffer.concat(targets);
  const s = Buffer.concat(segments);
  h.writeUInt16BE(t.length, 2);
  h.writeUInt32BE(s.length, 8);
  return Buffer.concat([h, t, s]);
}

function xcopy(param: Buffer, length = param.length): Buffer {
  const c = cdb(16, 0x83, 0x00);
  c.writeUInt32BE(length, 10);
  return c;
}

function rcr(sa: number, listId = 0): Buffer {
  const c = cdb(16, 0x84, sa, listId);
  c.writeUInt32BE(1024, 10);
  return c;
}

interface Case {
  readonly name: string;
  readonly param: (id: Buffer) => Buffer;
  readonly length?: (p: Buffer) => number;
  readonly want: string;
}

const cases: Case[] = [
  { name: 'copies blocks within the unit', param: (id) => list([targetDescriptor(id)], [segment(0, 0, 8, 0, 100)]), want: 'good' },
  { name: 'a zero-length parameter list does nothing', param: () => Buffer.alloc(0), want: 'good' },
  { name: 'a list cut inside a descriptor is PARAMETER LIST LENGTH ERROR', param: (id) => list([targetDescriptor(id)], [segment(0, 0, 8, 0, 100)]), length: (p) => p.length - 1, want: '05/1a/00' },
  { name: 'too many target descriptors', param: (id) => list([targetDescriptor(id), targetDescriptor(id), targetDescriptor(id)], [segment(0, 0, 1, 0, 100)]), want: '05/26/06' },
  { name: 'too many segment descriptors', param: (id) => list([targetDescriptor(id)], Array.from({ length: 9 }, () => segment(0, 0, 1, 0, 100))), want: '05/26/08' },
  { name: 'an unsupported target descriptor type', param: (id) => list([targetDescriptor(id, 0, 0xe0)], [segment(0, 0, 1, 0, 100)]), want: '05/26/07' },
  { name: 'an unsupported segment descriptor type', param: (id) => list([targetDescriptor(id)], [segment(0, 0, 1, 0, 100, 0x03)]), want: '05/26/09' },
  { name: 'a target descriptor with NUL set is COPY ABORTED', param: (id) => list([targetDescriptor(id, 0x20)], [segment(0, 0, 1, 0, 100)]), want: '0a/0d/02' },
  { name: 'a designator of another unit is COPY ABORTED', param: () => list([targetDescriptor(Buffer.from([1, 3, 0, 8, 0x60, 1, 2, 3, 4, 5, 6, 7]))], [segment(0, 0, 1, 0, 100)]), want: '0a/0d/02' },
  { name: 'a segment naming a missing target descriptor is COPY ABORTED', param: (id) => list([targetDescriptor(id)], [segment(0, 1, 1, 0, 100)]), want: '0a/0d/02' },
  { name: 'a segment past the end is COPY ABORTED', param: (id) => list([targetDescriptor(id)], [segment(0, 0, 8, 0, 2047)]), want: '0a/00/00' },
];

describe('EXTENDED COPY and RECEIVE COPY RESULTS', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await rig();
      r.device.data.fill(0x5a, 0, 8 * 512);
      const p = c.param(await naa(r));
      const res = await r.run(xcopy(p, c.length?.(p) ?? p.length), { dataOut: p });
      assert.equal(res.status === 0 ? 'good' : senseOf(res), c.want);
      if (c.want === 'good' && p.length > 0) assert.deepEqual(r.device.data.subarray(100 * 512, 108 * 512), blocksOf(8, 0x5a));
    });
  }

  it('holds the status of a copy for its list identifier, once', async () => {
    const r = await rig();
    assert.equal(senseOf(await r.run(rcr(0x00, 7))), '05/24/00');
    const p = list([targetDescriptor(await naa(r))], [segment(0, 0, 4, 0, 10)], 7, 0);
    assert.equal((await r.run(xcopy(p), { dataOut: p })).status, 0);
    const s = await r.run(rcr(0x00, 7));
    assert.equal(s.status, 0);
    assert.deepEqual([s.dataIn?.[4], s.dataIn?.readUInt16BE(5), s.dataIn?.readUInt32BE(8)], [0x01, 1, 4 * 512]);
    assert.equal(senseOf(await r.run(rcr(0x00, 7))), '05/24/00');
  });

  it('reports its operating parameters and the Third-party Copy VPD page', async () => {
    const r = await rig();
    const op = (await r.run(rcr(0x03))).dataIn ?? Buffer.alloc(0);
    assert.deepEqual([op.readUInt16BE(8), op.readUInt16BE(10), op.readUInt32BE(12)], [2, 8, 320]);
    const vpd = (await r.run(cdb(6, 0x12, 1, 0x8f, 0, 255))).dataIn ?? Buffer.alloc(0);
    assert.equal(vpd.readUInt16BE(4), 0x0001);
    assert.deepEqual([...vpd.subarray(9, 16)], [0x83, 1, 0x00, 0x84, 2, 0x00, 0x03]);
  });
});
