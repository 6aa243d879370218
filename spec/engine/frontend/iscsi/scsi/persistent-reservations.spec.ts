import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, blockCdb, blocksOf, cdb, rig, senseOf, tur, type Rig } from './harness.ts';
import type { Nexus } from '../../../../../engine/frontend/iscsi/scsi/logical-unit.ts';

const WE = 1, EA = 3, WERO = 5, EARO = 6, WEAR = 7, EAAR = 8;
const KA = 0xaan, KB = 0xbbn;

async function out(r: Rig, nexus: Nexus, sa: number, key: bigint, sark: bigint, type = 0, flags = 0): Promise<string> {
  const p = Buffer.alloc(24);
  p.writeBigUInt64BE(key, 0);
  p.writeBigUInt64BE(sark, 8);
  p[20] = flags;
  const res = await r.run(cdb(10, 0x5f, sa, type, 0, 0, 0, 0, 0, 24), { nexus, dataOut: p });
  return res.status === 0x18 ? 'conflict' : res.status === 0 ? 'good' : senseOf(res);
}

async function inData(r: Rig, sa: number, nexus: Nexus = A): Promise<Buffer> {
  const res = await r.run(cdb(10, 0x5e, sa, 0, 0, 0, 0, 0, 0x10, 0), { nexus });
  assert.equal(res.status, 0, senseOf(res));
  return res.dataIn ?? Buffer.alloc(0);
}

async function access(r: Rig, nexus: Nexus): Promise<string> {
  const rd = (await r.run(blockCdb(0x28, 0, 1), { nexus })).status === 0 ? 'r' : '-';
  const wr = (await r.run(blockCdb(0x2a, 0, 1), { nexus, dataOut: blocksOf(1, 1) })).status === 0 ? 'w' : '-';
  return rd + wr;
}

// SPC-4 table 46 as libiscsi's ProutReserve.Access* checks it: what B may do while A holds each type.
const accessCases = [
  { type: WE, registered: 'r-', unregistered: 'r-' },
  { type: EA, registered: '--', unregistered: '--' },
  { type: WERO, registered: 'rw', unregistered: 'r-' },
  { type: EARO, registered: 'rw', unregistered: '--' },
  { type: WEAR, registered: 'rw', unregistered: 'r-' },
  { type: EAAR, registered: 'rw', unregistered: '--' },
];

describe('persistent reservations', () => {
  for (const c of accessCases) {
    it(`type ${c.type}: holder reads and writes; registered B ${c.registered}; unregistered B ${c.unregistered}`, async () => {
      const r = await rig();
      assert.equal(await out(r, A, 6, 0n, KA), 'good');
      assert.equal(await out(r, B, 6, 0n, KB), 'good');
      assert.equal(await out(r, A, 1, KA, 0n, c.type), 'good');
      assert.equal(await access(r, A), 'rw');
      assert.equal(await access(r, B), c.registered);
      assert.equal(await out(r, B, 0, KB, 0n), 'good');
      assert.equal(await access(r, B), c.unregistered);
    });
  }

  const failures = [
    { name: 'REGISTER with a wrong reservation key conflicts', steps: [[A, 0, 0n, KA, 0, 'good'], [A, 0, 0x1n, KB, 0, 'conflict']] },
    { name: 'REGISTER from an unregistered nexus with a non-zero key conflicts', steps: [[A, 0, 0x1n, KA, 0, 'conflict']] },
    { name: 'RESERVE from an unregistered nexus conflicts', steps: [[A, 1, 0n, 0n, WE, 'conflict']] },
    { name: 'RESERVE with a bad type is INVALID FIELD IN CDB', steps: [[A, 6, 0n, KA, 0, 'good'], [A, 1, KA, 0n, 2, '05/24/00']] },
    { name: 'RESERVE of another type while reserved conflicts', steps: [[A, 6, 0n, KA, 0, 'good'], [B, 6, 0n, KB, 0, 'good'], [A, 1, KA, 0n, WE, 'good'], [B, 1, KB, 0n, WE, 'conflict'], [A, 1, KA, 0n, WE, 'good'], [A, 1, KA, 0n, EA, 'conflict']] },
    { name: 'RELEASE with the wrong type is INVALID RELEASE OF PERSISTENT RESERVATION', steps: [[A, 6, 0n, KA, 0, 'good'], [A, 1, KA, 0n, WE, 'good'], [A, 2, KA, 0n, EA, '05/26/04']] },
    { name: 'RELEASE by a registered non-holder is GOOD and changes nothing', steps: [[A, 6, 0n, KA, 0, 'good'], [B, 6, 0n, KB, 0, 'good'], [A, 1, KA, 0n, WE, 'good'], [B, 2, KB, 0n, WE, 'good'], [B, 1, KB, 0n, WE, 'conflict']] },
    { name: 'APTPL is refused (PTPL_C 0)', steps: [[A, 6, 0n, KA, 0, 'good'], [A, 0, KA, KB, 1, '05/26/00']] },
    { name: 'PREEMPT of a key nobody holds conflicts', steps: [[A, 6, 0n, KA, 0, 'good'], [A, 4, KA, 0x77n, WE, 'conflict']] },
    { name: 'PREEMPT with a zero key and no reservation is INVALID FIELD IN PARAMETER LIST', steps: [[A, 6, 0n, KA, 0, 'good'], [A, 4, KA, 0n, WE, '05/26/00']] },
    { name: 'REGISTER AND MOVE is not supported', steps: [[A, 7, 0n, KA, 0, '05/24/00']] },
  ] as const;
  for (const c of failures) {
    it(c.name, async () => {
      const r = await rig();
      for (const [nexus, sa, key, sark, typeOrFlags, want] of c.steps) {
        const isFlags = sa === 0 || sa === 6;
        assert.equal(await out(r, nexus, sa, key, sark, isFlags ? 0 : typeOrFlags, isFlags ? typeOrFlags : 0), want);
      }
    });
  }

  it('READ KEYS, READ RESERVATION and READ FULL STATUS report registrations and the holder', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    await out(r, B, 6, 0n, KB);
    await out(r, A, 1, KA, 0n, WERO);
    const keys = await inData(r, 0);
    assert.equal(keys.readUInt32BE(0), 2); // PRGENERATION counts the two registrations
    assert.deepEqual([keys.readBigUInt64BE(8), keys.readBigUInt64BE(16)], [KA, KB]);
    const rsv = await inData(r, 1);
    assert.equal(rsv.readUInt32BE(4), 16);
    assert.equal(rsv.readBigUInt64BE(8), KA);
    assert.equal(rsv[21], WERO);
    const full = await inData(r, 3);
    assert.equal(full[8 + 12], 1); // A holds it
    assert.match(full.subarray(8 + 28).toString(), /^iqn\.2026-11\.test:a,i,0x400000000001\0/);
    const caps = await inData(r, 2);
    assert.deepEqual([...caps.subarray(0, 6)], [0, 8, 0x14, 0x80, 0xea, 0x01]);
  });

  it('an all-registrants reservation reports key 0 and survives its creator unregistering', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    await out(r, B, 6, 0n, KB);
    await out(r, A, 1, KA, 0n, EAAR);
    assert.equal((await inData(r, 1)).readBigUInt64BE(8), 0n);
    await out(r, A, 0, KA, 0n);
    assert.equal((await inData(r, 1, B))[21], EAAR);
    assert.equal(await out(r, B, 2, KB, 0n, EAAR), 'good');
  });

  it('an unknown PERSISTENT RESERVE IN service action is INVALID FIELD IN CDB', async () => {
    const r = await rig();
    assert.equal(senseOf(await r.run(cdb(10, 0x5e, 4, 0, 0, 0, 0, 0, 0x10, 0))), '05/24/00');
  });

  it('releasing a registrants-only reservation tells the other registrants RESERVATIONS RELEASED', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    await out(r, B, 6, 0n, KB);
    await out(r, A, 1, KA, 0n, WERO);
    assert.equal(await out(r, A, 2, KA, 0n, WERO), 'good');
    assert.equal((await r.run(tur())).status, 0);
    assert.equal(senseOf(await r.run(tur(), { nexus: B })), '06/2a/04');
  });

  it('releasing a write-exclusive reservation posts no unit attention', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    await out(r, B, 6, 0n, KB);
    await out(r, A, 1, KA, 0n, WE);
    await out(r, A, 2, KA, 0n, WE);
    assert.equal((await r.run(tur(), { nexus: B })).status, 0);
  });

  it('PREEMPT takes the reservation and tells the preempted REGISTRATIONS PREEMPTED', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    await out(r, B, 6, 0n, KB);
    await out(r, A, 1, KA, 0n, EA);
    assert.equal(await out(r, B, 4, KB, KA, EA), 'good');
    assert.equal(senseOf(await r.run(tur())), '06/2a/05');
    const rsv = await inData(r, 1, B);
    assert.equal(rsv.readBigUInt64BE(8), KB);
    assert.equal(await access(r, A), '--');
  });

  it('CLEAR removes everything and tells the others RESERVATIONS PREEMPTED', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    await out(r, B, 6, 0n, KB);
    await out(r, A, 1, KA, 0n, EA);
    assert.equal(await out(r, A, 3, KA, 0n), 'good');
    assert.equal(senseOf(await r.run(tur(), { nexus: B })), '06/2a/03');
    assert.equal((await inData(r, 0)).readUInt32BE(4), 0);
  });

  it('RESERVE (6) from the persistent reservation holder succeeds and changes nothing (CRH 1)', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    await out(r, A, 1, KA, 0n, EA);
    assert.equal((await r.run(cdb(6, 0x16))).status, 0);
    assert.equal((await r.run(cdb(6, 0x16), { nexus: B })).status, 0x18);
    assert.equal((await inData(r, 1))[21], EA);
  });

  it('RESERVE (6) is refused while registrations exist, and a RESERVE (6) holder shuts others out', async () => {
    const r = await rig();
    await out(r, A, 6, 0n, KA);
    assert.equal((await r.run(cdb(6, 0x16), { nexus: B })).status, 0x18);
    await out(r, A, 6, KA, 0n);
    assert.equal((await r.run(cdb(6, 0x16), { nexus: B })).status, 0);
    assert.equal((await r.run(cdb(6, 0x1a, 0, 0x3f, 0, 255))).status, 0x18);
    assert.equal((await r.run(cdb(6, 0x12, 0, 0, 0, 96))).status, 0);
    assert.equal((await r.run(cdb(6, 0x17))).status, 0); // RELEASE from a non-holder: GOOD, no effect
    assert.equal((await r.run(cdb(6, 0x16))).status, 0x18);
    assert.equal((await r.run(cdb(6, 0x17), { nexus: B })).status, 0);
    assert.equal((await r.run(cdb(6, 0x16))).status, 0);
  });
});
