import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECT_MIN_BYTES, FrameDecoder, type FrameResult } from '../../../../../engine/frontend/iscsi/pdu/frame-decoder.ts';
import * as pdu from '../../../../helpers/iscsi-pdu.ts';

function drain(d: FrameDecoder): Array<{ bhs: string; ahs: string; data: string }> {
  const out: Array<{ bhs: string; ahs: string; data: string }> = [];
  for (;;) {
    const r: FrameResult = d.next();
    if (r === undefined) return out;
    if (r._tag === 'Error') throw new Error(r.error._tag);
    out.push({ bhs: r.frame.bhs.toString('hex'), ahs: r.frame.ahs.toString('hex'), data: r.frame.data.toString('hex') });
  }
}

const samples: Array<{ name: string; wire: (dg: pdu.Digests) => Buffer }> = [
  { name: 'NOP-Out without data', wire: (dg) => pdu.nopOut({ itt: 1, cmdSn: 5 }, dg) },
  { name: 'NOP-Out with 5 data bytes (3 pad)', wire: (dg) => pdu.nopOut({ itt: 2, cmdSn: 6, data: Buffer.from('hello') }, dg) },
  { name: 'SCSI Command with 512 bytes of immediate data', wire: (dg) => pdu.scsiCommand({ itt: 3, cmdSn: 7, cdb: pdu.rw16('write', 0, 1), write: true, expectedLength: 512, data: Buffer.alloc(512, 0x5a) }, dg) },
  { name: 'Data-Out with 1 data byte', wire: (dg) => pdu.dataOut({ itt: 4, final: true, dataSn: 0, offset: 0, data: Buffer.from([7]) }, dg) },
  { name: 'SCSI Command with an extended-CDB AHS', wire: (dg) => pdu.frame(pdu.scsiCommandBhs({ itt: 5, cmdSn: 8, cdb: Buffer.alloc(16, 1), expectedLength: 0 }), Buffer.alloc(0), dg, Buffer.from([0, 5, 1, 0, 9, 9, 9, 9])) },
];

const digestModes: pdu.Digests[] = [{}, { header: true }, { data: true }, { header: true, data: true }];

describe('FrameDecoder', () => {
  for (const dg of digestModes) {
    const label = `digests header=${dg.header === true} data=${dg.data === true}`;
    for (const s of samples) {
      it(`frames "${s.name}" split at every byte offset (${label})`, () => {
        const wire = s.wire(dg);
        const whole = new FrameDecoder(1 << 20);
        whole.headerDigest = dg.header === true;
        whole.dataDigest = dg.data === true;
        whole.push(wire);
        const expected = drain(whole);
        assert.equal(expected.length, 1);
        for (let cut = 1; cut < wire.length; cut++) {
          const d = new FrameDecoder(1 << 20);
          d.headerDigest = dg.header === true;
          d.dataDigest = dg.data === true;
          d.push(Buffer.from(wire.subarray(0, cut)));
          const first = drain(d);
          assert.equal(first.length, 0, `nothing before the last byte (cut ${cut})`);
          d.push(Buffer.from(wire.subarray(cut)));
          assert.deepEqual(drain(d), expected, `cut at ${cut}`);
        }
      });
    }
    it(`frames several PDUs packed into one chunk and fed byte by byte (${label})`, () => {
      const wires = samples.map((s) => s.wire(dg));
      const all = Buffer.concat(wires);
      const packed = new FrameDecoder(1 << 20);
      packed.headerDigest = dg.header === true;
      packed.dataDigest = dg.data === true;
      packed.push(all);
      const frames = drain(packed);
      assert.equal(frames.length, samples.length);
      const bytewise = new FrameDecoder(1 << 20);
      bytewise.headerDigest = dg.header === true;
      bytewise.dataDigest = dg.data === true;
      const got: ReturnType<typeof drain> = [];
      for (const b of all) {
        bytewise.push(Buffer.from([b]));
        got.push(...drain(bytewise));
      }
      assert.deepEqual(got, frames);
    });
  }

  it('frames 256 KiB Data-Outs fed in uneven chunks, one after another, with every data byte intact', () => {
    const wires = [0, 1, 2, 3].map((i) => {
      const data = Buffer.alloc(256 * 1024);
      for (let j = 0; j < data.length; j += 4) data.writeUInt32BE(((i << 24) ^ j) >>> 0, j);
      return { data, wire: pdu.dataOut({ itt: 10 + i, final: i === 3, dataSn: i, offset: i * data.length, data }, { data: true }) };
    });
    const all = Buffer.concat(wires.map((w) => w.wire));
    const d = new FrameDecoder(256 * 1024);
    d.dataDigest = true;
    const got: Buffer[] = [];
    for (let off = 0, k = 0; off < all.length; k++) {
      const n = [65536, 1000, 48, 70000, 3][k % 5] as number;
      d.push(Buffer.from(all.subarray(off, off + n)));
      off += n;
      for (let r = d.next(); r !== undefined; r = d.next()) {
        if (r._tag === 'Error') throw new Error(r.error._tag);
        got.push(Buffer.from(r.frame.data));
      }
    }
    assert.equal(got.length, 4);
    wires.forEach((w, i) => assert.ok(got[i]?.equals(w.data), `data of PDU ${i}`));
  });

  for (const dg of digestModes) {
    const label = `digests header=${dg.header === true} data=${dg.data === true}`;
    it(`places a large data segment where the placer says, split at many offsets, then frames what follows (${label})`, () => {
      const data = Buffer.alloc(DIRECT_MIN_BYTES + 5);
      for (let j = 0; j < data.length; j++) data[j] = (j * 7 + 3) & 0xff;
      const big = pdu.dataOut({ itt: 9, final: true, dataSn: 0, offset: 0, data }, dg);
      const after = pdu.nopOut({ itt: 10, cmdSn: 1 }, dg);
      const wire = Buffer.concat([big, after]);
      for (const cut of [1, 47, 48, 60, 100, 4000, big.length - 5, big.length - 1, big.length, big.length + 3]) {
        const dst = Buffer.alloc(data.length);
        const d = new FrameDecoder(1 << 20);
        d.headerDigest = dg.header === true;
        d.dataDigest = dg.data === true;
        let asked = 0;
        d.placer = () => (asked++, dst);
        const frames: Array<{ data: Buffer; itt: number }> = [];
        for (const part of [wire.subarray(0, cut), wire.subarray(cut, cut + 3000), wire.subarray(cut + 3000)]) {
          d.push(Buffer.from(part));
          for (let r = d.next(); r !== undefined; r = d.next()) {
            if (r._tag === 'Error') throw new Error(`${r.error._tag} at cut ${cut}`);
            frames.push({ data: r.frame.data, itt: r.frame.bhs.readUInt32BE(16) });
          }
        }
        assert.deepEqual(frames.map((f) => f.itt), [9, 10], `cut ${cut}`);
        assert.ok(frames[0]?.data.equals(data), `data intact at cut ${cut}`);
        if (cut < big.length) {
          assert.equal(asked, 1, `placer asked once at cut ${cut}`);
          assert.equal(frames[0]?.data, dst, `the frame's data is the placed buffer (cut ${cut})`);
          assert.ok(dst.equals(data));
        }
        assert.equal(d.buffered, 0);
      }
    });
  }

  it('reports a data digest error on a placed PDU, and a placer that declines gets the usual buffering', () => {
    const data = Buffer.alloc(DIRECT_MIN_BYTES * 2, 0x42);
    const wire = pdu.dataOut({ itt: 3, final: true, dataSn: 0, offset: 0, data }, { data: true });
    const bad = Buffer.from(wire);
    bad[48 + 100] = 0x43; // corrupt a data byte: the digest no longer matches
    const placed = new FrameDecoder(1 << 20);
    placed.dataDigest = true;
    placed.placer = () => Buffer.alloc(data.length);
    placed.push(bad.subarray(0, 1000));
    assert.equal(placed.next(), undefined);
    placed.push(bad.subarray(1000));
    const r = placed.next();
    assert.equal(r?._tag, 'Error');
    assert.equal(r._tag === 'Error' ? r.error._tag : '', 'DataDigest');
    const declined = new FrameDecoder(1 << 20);
    declined.dataDigest = true;
    declined.placer = () => undefined;
    declined.push(wire.subarray(0, 1000));
    assert.equal(declined.next(), undefined);
    declined.push(wire.subarray(1000));
    const ok = declined.next();
    assert.equal(ok?._tag, 'Frame');
    assert.ok(ok?._tag === 'Frame' && ok.frame.data.equals(data));
  });

  it('refuses a data segment longer than the limit as soon as the BHS is in, before the data', () => {
    const d = new FrameDecoder(8192);
    const wire = pdu.nopOut({ itt: 1, cmdSn: 1, data: Buffer.alloc(8193) });
    d.push(wire.subarray(0, 48));
    const r = d.next();
    assert.equal(r?._tag, 'Error');
    assert.equal(r?._tag === 'Error' ? r.error._tag : '', 'DataTooLong');
  });

  it('reports where a partial PDU stands', () => {
    const d = new FrameDecoder(8192);
    d.headerDigest = true;
    d.dataDigest = true;
    const wire = pdu.nopOut({ itt: 1, cmdSn: 1, data: Buffer.alloc(8) }, { header: true, data: true });
    const stages: string[] = [];
    for (const cut of [10, 50, 56, 62]) {
      const x = new FrameDecoder(8192);
      x.headerDigest = true;
      x.dataDigest = true;
      x.push(Buffer.from(wire.subarray(0, cut)));
      assert.equal(x.next(), undefined);
      stages.push(x.stage);
    }
    assert.deepEqual(stages, ['bhs', 'header-digest', 'data', 'data-digest']);
    d.push(wire);
    assert.equal(d.next()?._tag, 'Frame');
  });

  const corrupt: Array<{ name: string; at: (len: number) => number; error: string }> = [
    { name: 'a flipped BHS byte', at: () => 20, error: 'HeaderDigest' },
    { name: 'a flipped header digest byte', at: () => 48, error: 'HeaderDigest' },
    { name: 'a flipped data byte', at: () => 53, error: 'DataDigest' },
    { name: 'a flipped data digest byte', at: (len) => len - 1, error: 'DataDigest' },
  ];
  for (const c of corrupt) {
    it(`detects ${c.name} with digests on`, () => {
      const wire = pdu.nopOut({ itt: 1, cmdSn: 1, data: Buffer.from('payload!') }, { header: true, data: true });
      wire[c.at(wire.length)] = (wire[c.at(wire.length)] as number) ^ 0x01;
      const d = new FrameDecoder(8192);
      d.headerDigest = true;
      d.dataDigest = true;
      d.push(wire);
      const r = d.next();
      assert.equal(r?._tag === 'Error' ? r.error._tag : r?._tag, c.error);
    });
  }

  it('keeps frames parsed in place intact while the next chunk is buffered', () => {
    const a = pdu.nopOut({ itt: 1, cmdSn: 1, data: Buffer.from('first') });
    const b = pdu.nopOut({ itt: 2, cmdSn: 2, data: Buffer.from('second') });
    const chunk = Buffer.concat([a, b.subarray(0, 10)]);
    const d = new FrameDecoder(8192);
    d.push(chunk);
    const r = d.next();
    assert.equal(r?._tag, 'Frame');
    assert.equal(d.next(), undefined);
    d.push(b.subarray(10));
    const r2 = d.next();
    assert.equal(r2?._tag === 'Frame' ? r2.frame.data.toString() : '', 'second');
    // The chunk the decoder parsed in place is not written past its end.
    assert.equal(chunk.subarray(a.length).toString('hex'), b.subarray(0, 10).toString('hex'));
  });

  for (const dg of digestModes) {
    const label = `digests header=${dg.header === true} data=${dg.data === true}`;
    it(`frames a stream read into one reused buffer, cut into reads of every size from 1 to 97 bytes, with endChunk after each (${label})`, () => {
      // Large Data-Outs too, so that placed (direct) PDUs and buffered ones alternate.
      const big = Buffer.alloc(DIRECT_MIN_BYTES * 3, 0);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
      const wires = [...samples.map((s) => s.wire(dg)), pdu.dataOut({ itt: 9, final: true, dataSn: 0, offset: 0, data: big }, dg), samples[2]?.wire(dg) as Buffer];
      const all = Buffer.concat(wires);
      const reference = new FrameDecoder(1 << 20);
      reference.headerDigest = dg.header === true;
      reference.dataDigest = dg.data === true;
      reference.push(Buffer.from(all));
      const expected = drain(reference);
      assert.equal(expected.length, wires.length);
      for (let step = 1; step <= 97; step += step < 8 ? 1 : 11) {
        const d = new FrameDecoder(1 << 20);
        d.headerDigest = dg.header === true;
        d.dataDigest = dg.data === true;
        const placed = Buffer.alloc(big.length);
        d.placer = (bhs) => (bhs.readUInt32BE(16) === 9 ? placed : undefined);
        const rx = Buffer.alloc(97);
        const got: ReturnType<typeof drain> = [];
        for (let at = 0; at < all.length; at += step) {
          const n = all.copy(rx, 0, at, Math.min(all.length, at + step));
          d.push(rx.subarray(0, n));
          got.push(...drain(d));
          d.endChunk();
          rx.fill(0xee); // the next read overwrites the buffer
        }
        assert.deepEqual(got, expected, `reads of ${step} bytes`);
      }
    });
  }

  it('without endChunk a reused receive buffer would corrupt the PDU it left pending (the test above can fail)', () => {
    const a = pdu.nopOut({ itt: 1, cmdSn: 1, data: Buffer.from('first') });
    const b = pdu.nopOut({ itt: 2, cmdSn: 2, data: Buffer.from('second') });
    const run = (endChunk: boolean): string => {
      const d = new FrameDecoder(8192);
      const rx = Buffer.alloc(a.length + 20);
      Buffer.concat([a, b.subarray(0, 20)]).copy(rx);
      d.push(rx);
      drain(d);
      if (endChunk) d.endChunk();
      rx.fill(0xee);
      b.subarray(20).copy(rx);
      d.push(rx.subarray(0, b.length - 20));
      try {
        return drain(d).map((f) => Buffer.from(f.data, 'hex').toString()).join();
      } catch (e) {
        return (e as Error).message;
      }
    };
    assert.equal(run(true), 'second');
    assert.notEqual(run(false), 'second');
  });
});
