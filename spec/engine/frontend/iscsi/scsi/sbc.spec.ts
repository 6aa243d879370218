import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, blockCdb, blocksOf, cdb, rig, senseOf, type Rig } from './harness.ts';

const GOOD = 0x00;
const CHECK = 0x02;
const CONFLICT = 0x18;
const BLOCKS = 2048; // 1 MiB device

interface Case {
  readonly name: string;
  readonly setup?: (r: Rig) => Promise<void>;
  readonly cdb: Buffer;
  readonly dataOut?: Buffer;
  readonly status: number;
  readonly sense?: string;
  readonly check?: (r: Rig, data: Buffer | undefined, sense: Buffer | undefined) => void | Promise<void>;
}

const cases: Case[] = [
  { name: 'READ (10) returns the blocks written', setup: async (r) => void r.device.data.fill(7, 512, 1024), cdb: blockCdb(0x28, 1, 1), status: GOOD, check: (_r, d) => assert.deepEqual(d, blocksOf(1, 7)) },
  { name: 'READ (6) with length 0 reads 256 blocks', cdb: blockCdb(0x08, 0, 0), status: GOOD, check: (_r, d) => assert.equal(d?.length, 256 * 512) },
  { name: 'READ (12) of zero blocks is GOOD with no data', cdb: blockCdb(0xa8, 0, 0), status: GOOD, check: (_r, d) => assert.equal(d, undefined) },
  { name: 'READ (16) past the end is LBA OUT OF RANGE', cdb: blockCdb(0x88, BLOCKS - 1, 2), status: CHECK, sense: '05/21/00' },
  { name: 'READ (16) at LBA 2^64-1 is LBA OUT OF RANGE', cdb: blockCdb(0x88, 0xffffffffffffffffn, 1), status: CHECK, sense: '05/21/00' },
  { name: 'READ (10) with RDPROTECT set is INVALID FIELD IN CDB pointing at byte 1', cdb: blockCdb(0x28, 0, 1, 0x20), status: CHECK, sense: '05/24/00', check: (_r, _d, s) => { assert.equal(s?.[15], 0xc8 | 7); assert.equal(s?.readUInt16BE(16), 1); } },
  { name: 'READ (16) longer than MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB', setup: async (r) => { r.device.resize(64 << 20); await r.run(cdb(6, 0)); }, cdb: blockCdb(0x88, 0, 65537), status: CHECK, sense: '05/24/00' },
  { name: 'WRITE (10) stores the data', cdb: blockCdb(0x2a, 4, 2), dataOut: blocksOf(2, 9), status: GOOD, check: (r) => assert.deepEqual(r.device.data.subarray(2048, 3072), blocksOf(2, 9)) },
  { name: 'WRITE (16) with FUA is written with fua', cdb: blockCdb(0x8a, 0, 1, 0x08), dataOut: blocksOf(1, 1), status: GOOD, check: (r) => assert.equal(r.device.fuaWrites, 1) },
  { name: 'WRITE (12) without FUA is not', cdb: blockCdb(0xaa, 0, 1), dataOut: blocksOf(1, 1), status: GOOD, check: (r) => assert.equal(r.device.fuaWrites, 0) },
  { name: 'WRITE (6) of one block', cdb: blockCdb(0x0a, 3, 1), dataOut: blocksOf(1, 3), status: GOOD, check: (r) => assert.equal(r.device.data[3 * 512], 3) },
  { name: 'WRITE (10) with less data-out than the CDB says writes only the blocks that arrived', cdb: blockCdb(0x2a, 0, 2), dataOut: blocksOf(1, 1), status: GOOD, check: (r) => { assert.equal(r.device.data[0], 1); assert.equal(r.device.data[512], 0); } },
  { name: 'ORWRITE (16) ORs the data into the blocks', setup: async (r) => void r.device.data.fill(0xa5, 0, 512), cdb: blockCdb(0x8b, 0, 1), dataOut: blocksOf(1, 0x5a), status: GOOD, check: (r) => assert.deepEqual(r.device.data.subarray(0, 512), blocksOf(1, 0xff)) },
  { name: 'WRITE (10) past the end is LBA OUT OF RANGE', cdb: blockCdb(0x2a, BLOCKS, 1), dataOut: blocksOf(1, 1), status: CHECK, sense: '05/21/00' },
  { name: 'WRITE (10) on a full device is DATA PROTECT / SPACE ALLOCATION FAILED', setup: async (r) => void r.device.failNext.push('ENOSPC'), cdb: blockCdb(0x2a, 0, 1), dataOut: blocksOf(1, 1), status: CHECK, sense: '07/27/07' },
  { name: 'WRITE (10) failing with EIO is MEDIUM ERROR / WRITE ERROR', setup: async (r) => void r.device.failNext.push('EIO'), cdb: blockCdb(0x2a, 0, 1), dataOut: blocksOf(1, 1), status: CHECK, sense: '03/0c/00' },
  { name: 'READ (10) failing with EIO is MEDIUM ERROR / UNRECOVERED READ ERROR', setup: async (r) => void r.device.failNext.push('EIO'), cdb: blockCdb(0x28, 0, 1), status: CHECK, sense: '03/11/00' },
  { name: 'WRITE AND VERIFY (16) writes', cdb: blockCdb(0x8e, 8, 1, 0x02), dataOut: blocksOf(1, 5), status: GOOD, check: (r) => assert.equal(r.device.data[8 * 512], 5) },
  { name: 'VERIFY (10) BYTCHK 0 is GOOD', cdb: blockCdb(0x2f, 0, 4), status: GOOD },
  { name: 'VERIFY (10) of 0 blocks is GOOD (a transfer length of 0 is no error)', cdb: blockCdb(0x2f, 0, 0), status: GOOD },
  { name: 'VERIFY (12) BYTCHK 1 with equal data is GOOD', cdb: blockCdb(0xaf, 0, 1, 0x02), dataOut: blocksOf(1, 0), status: GOOD },
  { name: 'VERIFY (16) BYTCHK 1 with other data is MISCOMPARE at offset', setup: async (r) => void (r.device.data[700] = 1), cdb: blockCdb(0x8f, 0, 2, 0x02), dataOut: blocksOf(2, 0), status: CHECK, sense: '0e/1d/00', check: (_r, _d, s) => { assert.equal((s?.[0] ?? 0) & 0x80, 0x80); assert.equal(s?.readUInt32BE(3), 700); } },
  { name: 'VERIFY (10) BYTCHK 3 compares one block against each', setup: async (r) => void r.device.data.fill(4, 0, 1024), cdb: blockCdb(0x2f, 0, 2, 0x06), dataOut: blocksOf(1, 4), status: GOOD },
  { name: 'VERIFY (10) BYTCHK 2 is INVALID FIELD IN CDB', cdb: blockCdb(0x2f, 0, 1, 0x04), status: CHECK, sense: '05/24/00' },
  { name: 'SYNCHRONIZE CACHE (10) flushes', cdb: blockCdb(0x35, 0, 0), status: GOOD, check: (r) => assert.equal(r.device.flushes, 1) },
  { name: 'SYNCHRONIZE CACHE (16) past the end is LBA OUT OF RANGE', cdb: blockCdb(0x91, BLOCKS + 1, 0), status: CHECK, sense: '05/21/00' },
  { name: 'PRE-FETCH (10) is GOOD', cdb: blockCdb(0x34, 0, 8), status: GOOD },
  { name: 'COMPARE AND WRITE with matching data writes', cdb: blockCdb(0x89, 2, 1), dataOut: Buffer.concat([blocksOf(1, 0), blocksOf(1, 6)]), status: GOOD, check: (r) => assert.equal(r.device.data[2 * 512], 6) },
  { name: 'COMPARE AND WRITE with other data is MISCOMPARE and writes nothing', setup: async (r) => void (r.device.data[2 * 512 + 10] = 1), cdb: blockCdb(0x89, 2, 1), dataOut: Buffer.concat([blocksOf(1, 0), blocksOf(1, 6)]), status: CHECK, sense: '0e/1d/00', check: (r, _d, s) => { assert.equal(s?.readUInt32BE(3), 10); assert.equal(r.device.data[2 * 512], 0); } },
  { name: 'COMPARE AND WRITE with wrong data-out size is INVALID FIELD IN CDB', cdb: blockCdb(0x89, 0, 1), dataOut: blocksOf(1, 0), status: CHECK, sense: '05/24/00' },
  { name: 'WRITE SAME (10) repeats the block', cdb: blockCdb(0x41, 10, 3), dataOut: blocksOf(1, 8), status: GOOD, check: (r) => assert.deepEqual(r.device.data.subarray(5120, 6656), blocksOf(3, 8)) },
  { name: 'WRITE SAME (16) with UNMAP and zeros unmaps', setup: async (r) => void r.device.data.fill(1, 0, 8192), cdb: blockCdb(0x93, 0, 16, 0x08), dataOut: blocksOf(1, 0), status: GOOD, check: (r) => assert.ok(r.device.data.subarray(0, 8192).every((x) => x === 0)) },
  { name: 'WRITE SAME (10) with UNMAP unmaps even when the block is not zeros', setup: async (r) => void r.device.data.fill(1, 0, 4096), cdb: blockCdb(0x41, 0, 8, 0x08), dataOut: blocksOf(1, 0xff), status: GOOD, check: (r) => assert.ok(r.device.data.subarray(0, 4096).every((x) => x === 0)) },
  { name: 'WRITE SAME (16) with NDOB writes zeros', setup: async (r) => void r.device.data.fill(1, 0, 1024), cdb: blockCdb(0x93, 0, 2, 0x01), status: GOOD, check: (r) => assert.ok(r.device.data.subarray(0, 1024).every((x) => x === 0)) },
  { name: 'WRITE SAME (10) of zero blocks writes to the last LBA (WSNZ 0)', cdb: blockCdb(0x41, BLOCKS - 4, 0), dataOut: blocksOf(1, 3), status: GOOD, check: (r) => assert.deepEqual(r.device.data.subarray((BLOCKS - 4) * 512), blocksOf(4, 3)) },
  { name: 'WRITE SAME (10) with two blocks of data-out is INVALID FIELD IN CDB', cdb: blockCdb(0x41, 0, 2), dataOut: blocksOf(2, 0), status: CHECK, sense: '05/24/00' },
  { name: 'WRITE SAME (16) past the end is LBA OUT OF RANGE', cdb: blockCdb(0x93, BLOCKS - 1, 2), dataOut: blocksOf(1, 0), status: CHECK, sense: '05/21/00' },
  { name: 'UNMAP deallocates every descriptor', setup: async (r) => void r.device.data.fill(1), cdb: cdb(10, 0x42, 0, 0, 0, 0, 0, 0, 0, 40), dataOut: unmapList([[0, 8], [100, 8]]), status: GOOD, check: (r) => { assert.equal(r.device.data[0], 0); assert.equal(r.device.data[100 * 512], 0); assert.equal(r.device.data[8 * 512], 1); } },
  { name: 'UNMAP with a descriptor past the end is LBA OUT OF RANGE and unmaps nothing', setup: async (r) => void r.device.data.fill(1), cdb: cdb(10, 0x42, 0, 0, 0, 0, 0, 0, 0, 40), dataOut: unmapList([[0, 8], [BLOCKS - 1, 8]]), status: CHECK, sense: '05/21/00', check: (r) => assert.equal(r.device.data[0], 1) },
  { name: 'UNMAP with a parameter list shorter than its header is PARAMETER LIST LENGTH ERROR', cdb: cdb(10, 0x42, 0, 0, 0, 0, 0, 0, 0, 4), dataOut: Buffer.alloc(4), status: CHECK, sense: '05/1a/00' },
  { name: 'UNMAP with no parameter list is GOOD', cdb: cdb(10, 0x42), status: GOOD },
  { name: 'UNMAP with ANCHOR is INVALID FIELD IN CDB', cdb: cdb(10, 0x42, 1, 0, 0, 0, 0, 0, 0, 24), dataOut: unmapList([[0, 1]]), status: CHECK, sense: '05/24/00' },
  { name: 'READ CAPACITY (10) reports the last LBA and 512-byte blocks', cdb: cdb(10, 0x25), status: GOOD, check: (_r, d) => { assert.equal(d?.readUInt32BE(0), BLOCKS - 1); assert.equal(d?.readUInt32BE(4), 512); } },
  { name: 'READ CAPACITY (10) with an LBA and no PMI is INVALID FIELD IN CDB', cdb: cdb(10, 0x25, 0, 0, 0, 0, 1), status: CHECK, sense: '05/24/00' },
  { name: 'READ CAPACITY (16) reports LBPME, LBPRZ and 4 KiB physical blocks', cdb: cdb(16, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32), status: GOOD, check: (_r, d) => { assert.equal(d?.length, 32); assert.equal(d?.readBigUInt64BE(0), BigInt(BLOCKS - 1)); assert.equal(d?.[13], 3); assert.equal(d?.[14], 0xc0); } },
  { name: 'READ CAPACITY (16) honours a short allocation length', cdb: cdb(16, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12), status: GOOD, check: (_r, d) => assert.equal(d?.length, 12) },
  { name: 'SERVICE ACTION IN with an unknown service action is INVALID FIELD IN CDB', cdb: cdb(16, 0x9e, 0x1f), status: CHECK, sense: '05/24/00' },
  { name: 'GET LBA STATUS past the end is LBA OUT OF RANGE', cdb: getLbaStatus(BLOCKS), status: CHECK, sense: '05/21/00' },
  { name: 'READ DEFECT DATA (10) is an empty list', cdb: cdb(10, 0x37, 0, 0x18, 0, 0, 0, 0, 0, 4), status: GOOD, check: (_r, d) => assert.equal(d?.readUInt16BE(2), 0) },
  { name: 'WRITE ATOMIC (16) writes', cdb: atomic(0, 2), dataOut: blocksOf(2, 2), status: GOOD, check: (r) => assert.equal(r.device.data[600], 2) },
  { name: 'WRITE ATOMIC (16) with an atomic boundary is INVALID FIELD IN CDB', cdb: atomic(0, 1, 1), dataOut: blocksOf(1, 2), status: CHECK, sense: '05/24/00' },
];

function unmapList(ranges: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(8 + 16 * ranges.length);
  b.writeUInt16BE(b.length - 2, 0);
  b.writeUInt16BE(16 * ranges.length, 2);
  ranges.forEach(([lba, n], i) => {
    b.writeBigUInt64BE(BigInt(lba), 8 + 16 * i);
    b.writeUInt32BE(n, 16 + 16 * i);
  });
  return b;
}

function getLbaStatus(lba: number, alloc = 4096): Buffer {
  const b = cdb(16, 0x9e, 0x12);
  b.writeBigUInt64BE(BigInt(lba), 2);
  b.writeUInt32BE(alloc, 10);
  return b;
}

function atomic(lba: number, blocks: number, boundary = 0): Buffer {
  const b = cdb(16, 0x9c);
  b.writeBigUInt64BE(BigInt(lba), 2);
  b.writeUInt16BE(boundary, 10);
  b.writeUInt16BE(blocks, 12);
  return b;
}

describe('SBC commands', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await rig();
      await c.setup?.(r);
      const res = await r.run(c.cdb, c.dataOut === undefined ? {} : { dataOut: c.dataOut });
      assert.equal(res.status, c.status, `status ${res.status} sense ${senseOf(res)}`);
      if (c.dataOut !== undefined) assert.ok(res.dataOutLength !== undefined, 'commands with data-out report dataOutLength');
      if (c.sense !== undefined) assert.equal(senseOf(res), c.sense);
      await c.check?.(r, res.dataIn, res.sense);
    });
  }

  const residualCases = [
    { name: 'WRITE (10) of 2 blocks', cdb: blockCdb(0x2a, 0, 2), want: 1024 },
    { name: 'COMPARE AND WRITE of 1 block', cdb: blockCdb(0x89, 0, 1), want: 1024 },
    { name: 'WRITE SAME (16) with NDOB', cdb: blockCdb(0x93, 0, 1, 0x01), want: 0 },
    { name: 'VERIFY (10) BYTCHK 3', cdb: blockCdb(0x2f, 0, 4, 0x06), want: 512 },
    { name: 'UNMAP with a 24-byte list', cdb: cdb(10, 0x42, 0, 0, 0, 0, 0, 0, 0, 24), want: 24 },
  ];
  for (const c of residualCases) {
    it(`reports the data-out length the CDB asks for: ${c.name}`, async () => {
      const r = await rig();
      assert.equal((await r.run(c.cdb, { dataOut: Buffer.alloc(c.want) })).dataOutLength, c.want);
    });
  }

  it('GET LBA STATUS reports mapped and deallocated extents from the allocation map', async () => {
    const r = await rig({ device: { trackMapping: true } });
    await r.run(blockCdb(0x2a, 16, 8), { dataOut: blocksOf(8, 1) });
    const res = await r.run(getLbaStatus(0));
    assert.equal(res.status, GOOD);
    const d = res.dataIn ?? Buffer.alloc(0);
    const extents = [];
    for (let off = 8; off < d.length; off += 16) extents.push([Number(d.readBigUInt64BE(off)), d.readUInt32BE(off + 8), d[off + 12]]);
    assert.deepEqual(extents, [[0, 16, 1], [16, 8, 0], [24, BLOCKS - 24, 1]]);
  });

  it('a write waits while COMPARE AND WRITE holds its LBAs', async () => {
    const r = await rig();
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const realRead = r.device.readAt.bind(r.device);
    r.device.readAt = async (o, l) => {
      await gate;
      return realRead(o, l);
    };
    const caw = r.run(blockCdb(0x89, 0, 1), { dataOut: Buffer.concat([blocksOf(1, 0), blocksOf(1, 6)]) });
    const w = r.run(blockCdb(0x2a, 0, 1), { dataOut: blocksOf(1, 9), nexus: B });
    release();
    assert.equal((await caw).status, GOOD);
    assert.equal((await w).status, GOOD);
    // The write came after the compare-and-write, so its data is what remains.
    assert.equal(r.device.data[0], 9);
  });

  it('a long WRITE SAME stops between chunks when its task is aborted', async () => {
    const r = await rig({ sizeBytes: 8 << 20 });
    const ac = new AbortController();
    const realWrite = r.device.writeAt.bind(r.device);
    r.device.writeAt = async (o, d, f) => {
      await realWrite(o, d, f);
      ac.abort();
    };
    const res = await r.run(blockCdb(0x93, 0, 8192), { dataOut: blocksOf(1, 7), signal: ac.signal });
    assert.equal(res.status, 0x40);
    assert.equal(r.device.data[2048 * 512], 0); // the second chunk was never written
  });

  it('a long WRITE SAME on a device that writes synchronously still lets an abort in between chunks', async () => {
    const r = await rig({ sizeBytes: 8 << 20 });
    const ac = new AbortController();
    const realWrite = r.device.writeAt.bind(r.device);
    let writes = 0;
    // Like FileDevice: the data is written before writeAt returns, the promise is already settled.
    r.device.writeAt = (o, d, f) => {
      writes++;
      return realWrite(o, d, f);
    };
    setImmediate(() => ac.abort()); // task management arriving on the event loop
    const res = await r.run(blockCdb(0x93, 0, 8192), { dataOut: blocksOf(1, 7), signal: ac.signal });
    assert.equal(res.status, 0x40);
    assert.ok(writes < 4, `stopped after ${writes} of 4 chunks`);
  });

  it('write cache off (WCE 0) makes every write FUA', async () => {
    const r = await rig();
    const sense = await r.run(cdb(6, 0x1a, 0, 0x08, 0, 255));
    const page = Buffer.from(sense.dataIn ?? Buffer.alloc(0));
    page[12 + 2] = (page[12 + 2] ?? 0) & ~0x04; // clear WCE
    page[0] = 0;
    const sel = await r.run(cdb(6, 0x15, 0x10, 0, 0, page.length), { dataOut: page });
    assert.equal(sel.status, GOOD, senseOf(sel));
    await r.run(blockCdb(0x2a, 0, 1), { dataOut: blocksOf(1, 1) });
    assert.equal(r.device.fuaWrites, 1);
  });

  it('a persistent reservation conflict stops a write before the device sees it', async () => {
    const r = await rig();
    const reg = Buffer.alloc(24);
    reg.writeBigUInt64BE(0xabn, 8);
    await r.run(cdb(10, 0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24), { dataOut: reg });
    const res = Buffer.alloc(24);
    res.writeBigUInt64BE(0xabn, 0);
    await r.run(cdb(10, 0x5f, 0x01, 0x01, 0, 0, 0, 0, 0, 24), { dataOut: res });
    const w = await r.run(blockCdb(0x2a, 0, 1), { dataOut: blocksOf(1, 9), nexus: B });
    assert.equal(w.status, CONFLICT);
    assert.equal(r.device.data[0], 0);
    assert.equal((await r.run(blockCdb(0x28, 0, 1), { nexus: B })).status, GOOD);
    assert.equal((await r.run(blockCdb(0x2a, 0, 1), { dataOut: blocksOf(1, 9), nexus: A })).status, GOOD);
  });
});
