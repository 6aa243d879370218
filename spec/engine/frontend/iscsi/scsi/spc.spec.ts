import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, cdb, rig, senseOf, tur, type Rig } from './harness.ts';

const GOOD = 0x00;
const CHECK = 0x02;

interface Case {
  readonly name: string;
  readonly setup?: (r: Rig) => Promise<void>;
  readonly cdb: Buffer;
  readonly dataOut?: Buffer;
  readonly lun?: number;
  readonly status: number;
  readonly sense?: string;
  readonly check?: (data: Buffer) => void;
}

function inquiry(evpd: number, page: number, alloc = 255): Buffer {
  const b = cdb(6, 0x12, evpd, page);
  b.writeUInt16BE(alloc, 3);
  return b;
}

function designators(p: Buffer): Array<{ type: number; assoc: number; value: Buffer }> {
  const out = [];
  for (let off = 4; off < p.length; off += 4 + (p[off + 3] ?? 0)) {
    out.push({ type: (p[off + 1] ?? 0) & 0x0f, assoc: ((p[off + 1] ?? 0) >> 4) & 0x3, value: p.subarray(off + 4, off + 4 + (p[off + 3] ?? 0)) });
  }
  return out;
}

function rsoc(options: number, opcode = 0, sa = 0, rctd = 0): Buffer {
  const b = cdb(12, 0xa3, 0x0c, options | rctd, opcode);
  b.writeUInt16BE(sa, 4);
  b.writeUInt32BE(65535, 6);
  return b;
}

const cases: Case[] = [
  { name: 'standard INQUIRY names a direct-access SPC-4 device with HiSup and CmdQue', cdb: inquiry(0, 0), status: GOOD, check: (d) => { assert.equal(d.length, 96); assert.equal(d[0], 0); assert.equal(d[2], 6); assert.equal(d[3], 0x12); assert.equal(d[4], 91); assert.equal(d[7], 0x02); assert.equal(d.subarray(8, 16).toString(), 'SHORTHRN'); } },
  { name: 'standard INQUIRY is cut to the allocation length', cdb: inquiry(0, 0, 36), status: GOOD, check: (d) => assert.equal(d.length, 36) },
  { name: 'INQUIRY with a page code but no EVPD is INVALID FIELD IN CDB at byte 2', cdb: inquiry(0, 0x80), status: CHECK, sense: '05/24/00' },
  { name: 'VPD 00h lists 00, 80, 83, 8F, B0, B1, B2', cdb: inquiry(1, 0x00), status: GOOD, check: (d) => assert.deepEqual([...d.subarray(4)], [0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2]) },
  { name: 'VPD 80h carries the unit serial number', cdb: inquiry(1, 0x80), status: GOOD, check: (d) => { assert.equal(d[1], 0x80); assert.match(d.subarray(4).toString(), /^[0-9a-f]{24}$/); } },
  { name: 'VPD 83h has NAA, EUI-64, T10 vendor, relative port, port group and SCSI name designators', cdb: inquiry(1, 0x83), status: GOOD, check: (d) => { const ds = designators(d); assert.deepEqual(ds.map((x) => x.type), [3, 2, 1, 4, 5, 8]); assert.equal((ds[0]?.value[0] ?? 0) >> 4, 3); assert.match(ds[5]?.value.toString() ?? '', /^iqn\.2026-11\.io\.shorthorn:vol-1\0/); } },
  { name: 'VPD B0h has page length 3Ch and the UNMAP limits', cdb: inquiry(1, 0xb0, 64), status: GOOD, check: (d) => { assert.equal(d.length, 64); assert.equal(d.readUInt16BE(2), 0x3c); assert.equal(d[5], 255); assert.equal(d.readUInt32BE(20), 1 << 20); assert.equal(d.readUInt32BE(24), 256); } },
  { name: 'VPD B1h says non-rotating', cdb: inquiry(1, 0xb1), status: GOOD, check: (d) => assert.equal(d.readUInt16BE(4), 1) },
  { name: 'VPD B2h says thin with LBPU, LBPWS, LBPWS10 and LBPRZ', cdb: inquiry(1, 0xb2), status: GOOD, check: (d) => { assert.equal(d[5], 0xe4); assert.equal((d[6] ?? 0) & 7, 2); } },
  { name: 'an unknown VPD page is INVALID FIELD IN CDB', cdb: inquiry(1, 0x99), status: CHECK, sense: '05/24/00' },
  { name: 'INQUIRY on LUN 1 answers peripheral qualifier 011b', cdb: inquiry(0, 0), lun: 1, status: GOOD, check: (d) => assert.equal(d[0], 0x7f) },
  { name: 'REQUEST SENSE on LUN 1 returns LOGICAL UNIT NOT SUPPORTED as data', cdb: cdb(6, 0x03, 0, 0, 0, 18), lun: 1, status: GOOD, check: (d) => assert.deepEqual([d[2], d[12], d[13]], [0x05, 0x25, 0x00]) },
  { name: 'READ (10) on LUN 1 is LOGICAL UNIT NOT SUPPORTED', cdb: cdb(10, 0x28), lun: 1, status: CHECK, sense: '05/25/00' },
  { name: 'REPORT LUNS lists LUN 0', cdb: cdb(12, 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0), status: GOOD, check: (d) => { assert.equal(d.readUInt32BE(0), 8); assert.equal(d.length, 16); } },
  { name: 'REPORT LUNS with an allocation length under 16 is INVALID FIELD IN CDB', cdb: cdb(12, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8), status: CHECK, sense: '05/24/00' },
  { name: 'REPORT LUNS with a reserved SELECT REPORT is INVALID FIELD IN CDB', cdb: cdb(12, 0xa0, 0, 0x05, 0, 0, 0, 0, 0, 1, 0), status: CHECK, sense: '05/24/00' },
  { name: 'TEST UNIT READY is GOOD', cdb: tur(), status: GOOD },
  { name: 'REQUEST SENSE with nothing pending is NO SENSE', cdb: cdb(6, 0x03, 0, 0, 0, 18), status: GOOD, check: (d) => { assert.equal(d[0], 0x70); assert.equal(d[2], 0); assert.equal(d[12], 0); } },
  { name: 'REQUEST SENSE with DESC is INVALID FIELD IN CDB', cdb: cdb(6, 0x03, 1, 0, 0, 18), status: CHECK, sense: '05/24/00' },
  { name: 'an unsupported opcode is INVALID COMMAND OPERATION CODE', cdb: cdb(10, 0x3b), status: CHECK, sense: '05/20/00' },
  { name: 'MODE SENSE (6) all pages has caching, control and IE pages behind a block descriptor', cdb: cdb(6, 0x1a, 0, 0x3f, 0, 255), status: GOOD, check: (d) => { assert.equal(d[0], d.length - 1); assert.equal(d[3], 8); assert.deepEqual([d[12], d[32], d[44]], [0x08, 0x0a, 0x1c]); assert.equal((d[14] ?? 0) & 0x04, 0x04); } },
  { name: 'MODE SENSE (10) with LLBAA returns a 16-byte block descriptor', cdb: cdb(10, 0x5a, 0x10, 0x08, 0, 0, 0, 0, 0, 255), status: GOOD, check: (d) => { assert.equal(d.readUInt16BE(6), 16); assert.equal(d[4], 1); assert.equal(d.readBigUInt64BE(8), 2048n); } },
  { name: 'MODE SENSE changeable values mark WCE', cdb: cdb(6, 0x1a, 0x08, 0x48, 0, 255), status: GOOD, check: (d) => assert.equal(d[6], 0x04) },
  { name: 'MODE SENSE saved values is SAVING PARAMETERS NOT SUPPORTED', cdb: cdb(6, 0x1a, 0x08, 0xc8, 0, 255), status: CHECK, sense: '05/39/00' },
  { name: 'MODE SENSE of an unknown page is INVALID FIELD IN CDB', cdb: cdb(6, 0x1a, 0x08, 0x19, 0, 255), status: CHECK, sense: '05/24/00' },
  { name: 'MODE SELECT with SP is INVALID FIELD IN CDB', cdb: cdb(6, 0x15, 0x11, 0, 0, 0), status: CHECK, sense: '05/24/00' },
  { name: 'MODE SELECT changing a fixed bit is INVALID FIELD IN PARAMETER LIST', cdb: cdb(6, 0x15, 0x10, 0, 0, 24), dataOut: Buffer.concat([Buffer.alloc(4), Buffer.from([0x08, 0x12, 0x05]), Buffer.alloc(17)]), status: CHECK, sense: '05/26/00' },
  { name: 'MODE SELECT with a block descriptor of another block length is INVALID FIELD IN PARAMETER LIST', cdb: cdb(6, 0x15, 0x10, 0, 0, 12), dataOut: Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x10, 0]), status: CHECK, sense: '05/26/00' },
  { name: 'MODE SELECT with a parameter list shorter than its header is PARAMETER LIST LENGTH ERROR', cdb: cdb(6, 0x15, 0x10, 0, 0, 2), dataOut: Buffer.alloc(2), status: CHECK, sense: '05/1a/00' },
  { name: 'MODE SELECT of an unknown page is INVALID FIELD IN PARAMETER LIST', cdb: cdb(6, 0x15, 0x10, 0, 0, 8), dataOut: Buffer.from([0, 0, 0, 0, 0x19, 0x02, 0, 0]), status: CHECK, sense: '05/26/00' },
  { name: 'MODE SENSE (6) with a short allocation length is cut but keeps the full MODE DATA LENGTH', cdb: cdb(6, 0x1a, 0, 0x3f, 0, 4), status: GOOD, check: (d) => { assert.equal(d.length, 4); assert.equal(d[0], 3 + 8 + 20 + 12 + 12); } },
  { name: 'START STOP UNIT is GOOD', cdb: cdb(6, 0x1b, 0, 0, 0, 0x01), status: GOOD },
  { name: 'START STOP UNIT with a reserved power condition is INVALID FIELD IN CDB', cdb: cdb(6, 0x1b, 0, 0, 0, 0x40), status: CHECK, sense: '05/24/00' },
  { name: 'PREVENT ALLOW MEDIUM REMOVAL is GOOD', cdb: cdb(6, 0x1e, 0, 0, 0, 1), status: GOOD },
  { name: 'REPORT SUPPORTED OPERATION CODES lists READ (16) and marks READ CAPACITY (16) as having service actions', cdb: rsoc(0), status: GOOD, check: (d) => { const n = d.readUInt32BE(0) / 8; const ds = Array.from({ length: n }, (_, i) => d.subarray(4 + 8 * i, 12 + 8 * i)); assert.ok(ds.some((x) => x[0] === 0x88 && x.readUInt16BE(6) === 16)); assert.ok(ds.some((x) => x[0] === 0x9e && x.readUInt16BE(2) === 0x10 && x[5] === 1)); } },
  { name: 'RSOC one command returns CDB usage data starting with the opcode', cdb: rsoc(1, 0x28), status: GOOD, check: (d) => { assert.equal(d[1], 3); assert.equal(d.readUInt16BE(2), 10); assert.equal(d[4], 0x28); } },
  { name: 'RSOC one command for an opcode with service actions is INVALID FIELD IN CDB', cdb: rsoc(1, 0x9e), status: CHECK, sense: '05/24/00' },
  { name: 'RSOC one service action answers READ CAPACITY (16)', cdb: rsoc(2, 0x9e, 0x10), status: GOOD, check: (d) => { assert.equal(d[1], 3); assert.equal(d[4], 0x9e); } },
  { name: 'RSOC one command for an unsupported opcode says not supported', cdb: rsoc(1, 0x3b), status: GOOD, check: (d) => assert.equal(d[1], 1) },
  { name: 'RSOC with RCTD adds the command timeouts descriptor', cdb: rsoc(1, 0x28, 0, 0x80), status: GOOD, check: (d) => { assert.equal(d[1], 0x83); assert.equal(d.length, 4 + 10 + 12); } },
  { name: 'REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS', cdb: cdb(12, 0xa3, 0x0d, 0, 0, 0, 0, 0, 0, 0, 4), status: GOOD, check: (d) => assert.equal(d[0], 0xda) },
];

describe('SPC commands', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const r = await rig();
      await c.setup?.(r);
      const res = await r.run(c.cdb, { ...(c.dataOut === undefined ? {} : { dataOut: c.dataOut }), ...(c.lun === undefined ? {} : { lun: c.lun }) });
      assert.equal(res.status, c.status, `status ${res.status} sense ${senseOf(res)}`);
      if (c.sense !== undefined) assert.equal(senseOf(res), c.sense);
      c.check?.(res.dataIn ?? Buffer.alloc(0));
    });
  }
});

describe('unit attentions', () => {
  it('the first command of a nexus sees POWER ON, RESET; INQUIRY does not consume it; REQUEST SENSE does', async () => {
    const r = await rig({ keepUa: true });
    assert.equal((await r.run(inquiry(0, 0))).status, GOOD);
    const rs = await r.run(cdb(6, 0x03, 0, 0, 0, 18));
    assert.equal(rs.status, GOOD);
    assert.deepEqual([rs.dataIn?.[2], rs.dataIn?.[12], rs.dataIn?.[13]], [0x06, 0x29, 0x00]);
    assert.equal((await r.run(tur())).status, GOOD);
  });

  it('a resize posts CAPACITY DATA HAS CHANGED on every nexus', async () => {
    const r = await rig();
    r.device.resize(2 << 20);
    for (const nexus of [A, B]) assert.equal(senseOf(await r.run(tur(), { nexus })), '06/2a/09');
    assert.equal((await r.run(tur())).status, GOOD);
  });

  it('MODE SELECT posts MODE PARAMETERS CHANGED on the other nexuses only', async () => {
    const r = await rig();
    const page = Buffer.from((await r.run(cdb(6, 0x1a, 0x08, 0x0a, 0, 255))).dataIn ?? Buffer.alloc(0));
    page[0] = 0;
    page[4 + 4] = (page[4 + 4] ?? 0) | 0x08; // SWP
    assert.equal((await r.run(cdb(6, 0x15, 0x10, 0, 0, page.length), { dataOut: page })).status, GOOD);
    assert.equal((await r.run(tur())).status, GOOD);
    assert.equal(senseOf(await r.run(tur(), { nexus: B })), '06/2a/01');
    assert.equal(senseOf(await r.run(cdb(10, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1), { dataOut: Buffer.alloc(512) })), '07/27/00');
  });

  it('a LUN reset drops RESERVE (6) and tells every nexus, the one that asked included', async () => {
    const r = await rig();
    assert.equal((await r.run(cdb(6, 0x16))).status, GOOD);
    assert.equal((await r.run(tur(), { nexus: B })).status, 0x18);
    r.lu.taskManagement('lun-reset', A);
    assert.equal(senseOf(await r.run(tur(), { nexus: B })), '06/29/03');
    assert.equal(senseOf(await r.run(tur(), { nexus: A })), '06/29/03');
    assert.equal((await r.run(cdb(6, 0x16), { nexus: B })).status, GOOD);
  });

  it('a nexus that logs out loses its RESERVE (6) and is greeted again', async () => {
    const r = await rig();
    await r.run(cdb(6, 0x16));
    r.lu.nexusGone(A);
    assert.equal((await r.run(cdb(6, 0x16), { nexus: B })).status, GOOD);
    assert.equal(senseOf(await r.run(tur())), '06/29/00');
  });
});
