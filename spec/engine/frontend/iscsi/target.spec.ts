import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Opcode, RejectReason, TmfFunction, TmfResponse } from '../../../../engine/frontend/iscsi/pdu/opcodes.ts';
import { createBlockLogicalUnit } from '../../../../engine/frontend/iscsi/scsi/index.ts';
import { createLogger } from '../../../../api/log.ts';
import { BasicLogicalUnit } from '../../../helpers/basic-logical-unit.ts';
import { TestInitiator, type InitiatorOptions } from '../../../helpers/iscsi-initiator.ts';
import * as pdu from '../../../helpers/iscsi-pdu.ts';
import { GateUnit, startTestTarget, type TestTarget } from '../../../helpers/iscsi-target.ts';

const T = { timeout: 20_000 };

describe('iSCSI target over TCP with the test initiator', T, () => {
  let t: TestTarget;
  before(async () => {
    t = await startTestTarget();
  });
  after(async () => {
    await t.close();
  });

  it('answers SendTargets=All in a discovery session with the target name and the portal address, group 1', async () => {
    const ini = await TestInitiator.open(t.portal, { discovery: true });
    assert.deepEqual(await ini.sendTargets(), [['TargetName', 'iqn.2026-11.io.shorthorn:vol1'], ['TargetAddress', `${t.portal},1`]]);
    assert.equal(await ini.logout(), 0);
  });

  it('refuses SCSI commands in a discovery session with a Reject', async () => {
    const ini = await TestInitiator.open(t.portal, { discovery: true });
    const rej = ini.waitFor((p) => p.opcode === Opcode.Reject);
    ini.send(pdu.scsiCommand({ itt: 9, cmdSn: ini.cmdSn, cdb: Buffer.alloc(16), expectedLength: 0 }));
    assert.equal((await rej).bhs[2], RejectReason.ProtocolError);
    ini.destroy();
  });

  const transfers: Array<{ name: string; opts: InitiatorOptions; bytes: number }> = [
    { name: 'immediate data only', opts: {}, bytes: 4096 },
    { name: 'immediate + unsolicited Data-Out + R2T bursts', opts: { maxRecv: 8192, firstBurst: 16384, maxBurst: 65536 }, bytes: 1024 * 1024 },
    { name: 'R2T only (InitialR2T=Yes, ImmediateData=No)', opts: { initialR2T: true, immediateData: false, maxBurst: 32768 }, bytes: 300 * 512 },
    { name: 'header and data digests', opts: { headerDigest: true, dataDigest: true, maxRecv: 4096 }, bytes: 128 * 1024 },
    { name: 'a small MaxRecvDataSegmentLength of 512', opts: { maxRecv: 512, firstBurst: 512, maxBurst: 4096 }, bytes: 32 * 1024 },
  ];
  for (const c of transfers) {
    it(`writes and reads back ${c.bytes} bytes with ${c.name}`, async () => {
      const ini = await TestInitiator.open(t.portal, { targetName: t.iqn, ...c.opts });
      const data = randomBytes(c.bytes);
      assert.equal(await ini.write(64, data), 0);
      assert.deepEqual(t.device.data.subarray(64 * 512, 64 * 512 + c.bytes), data);
      const r = await ini.read(64, c.bytes / 512);
      assert.equal(r.status, 0);
      assert.ok(r.data.equals(data));
      await ini.logout();
    });
  }

  it('splits Data-In at the initiator MaxRecvDataSegmentLength and collapses GOOD status into the last one', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn, maxRecv: 4096 });
    const seen: pdu.TargetPdu[] = [];
    const itt = ini.nextItt();
    const done = ini.waitFor((p) => p.itt === itt && (p.flags & 0x01) !== 0, (p) => {
      if (p.itt !== itt) return false;
      seen.push(p);
      return (p.flags & 0x01) === 0;
    });
    ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: pdu.rw16('read', 0, 128), read: true, expectedLength: 65536 }));
    const last = await done;
    assert.equal(seen.length, 16);
    assert.ok(seen.every((p) => p.opcode === Opcode.DataIn && p.data.length === 4096));
    assert.deepEqual(seen.map((p) => p.bhs.readUInt32BE(36)), Array.from({ length: 16 }, (_, i) => i));
    assert.equal(last.bhs[3], 0);
    assert.equal(last.flags & 0x80, 0x80);
    ini.destroy();
  });

  const residuals: Array<{ name: string; blocks: number; edtl: number; flag: number; residual: number; bytes: number }> = [
    { name: 'underflow when the initiator expects more than the command returns', blocks: 1, edtl: 1024, flag: 0x02, residual: 512, bytes: 512 },
    { name: 'overflow when it expects less', blocks: 2, edtl: 512, flag: 0x04, residual: 512, bytes: 512 },
  ];
  for (const c of residuals) {
    it(`reports ${c.name}`, async () => {
      const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
      const itt = ini.nextItt();
      let bytes = 0;
      const done = ini.waitFor((p) => p.itt === itt && (p.flags & 0x01) !== 0, (p) => {
        if (p.itt === itt) bytes += p.data.length;
        return false;
      });
      ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: pdu.rw16('read', 0, c.blocks), read: true, expectedLength: c.edtl }));
      const last = await done;
      assert.equal(last.flags & 0x06, c.flag);
      assert.equal(last.bhs.readUInt32BE(44), c.residual);
      assert.equal(bytes, c.bytes);
      ini.destroy();
    });
  }

  it('answers CHECK CONDITION with a SCSI Response whose data is SenseLength + sense', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    const itt = ini.nextItt();
    const resp = ini.waitFor((p) => p.itt === itt);
    ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: pdu.rw16('read', 1 << 30, 1), read: true, expectedLength: 512 }));
    const r = await resp;
    assert.equal(r.opcode, Opcode.ScsiResponse);
    assert.equal(r.bhs[3], 0x02);
    assert.equal(r.data.readUInt16BE(0), r.data.length - 2);
    assert.equal((r.data[2 + 2] as number) & 0x0f, 0x05);
    ini.destroy();
  });

  it('echoes NOP-Out data in a NOP-In and keeps the window moving', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    assert.equal((await ini.ping(Buffer.from('ping-data'))).toString(), 'ping-data');
    const before = ini.cmdSn;
    const itt = ini.nextItt();
    const r = ini.waitFor((p) => p.itt === itt);
    ini.send(pdu.nopOut({ itt, cmdSn: ini.cmdSn, immediate: true }));
    // An immediate NOP-Out does not consume a CmdSN (RFC 7143 §4.2.2.1).
    assert.equal((await r).expCmdSn, before);
    ini.destroy();
  });

  it('rejects unknown opcodes, SNACK and a Login Request in full feature phase, and carries on', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    const cases: Array<[Buffer, number]> = [
      [pdu.frame(Object.assign(Buffer.alloc(48), { 0: 0x1c })), RejectReason.CommandNotSupported],
      [pdu.snack({ itt: 5 }), RejectReason.SnackReject],
      [pdu.login({ csg: 1, nsg: 3, transit: true }), RejectReason.ProtocolError],
    ];
    for (const [wire, reason] of cases) {
      const rej = ini.waitFor((p) => p.opcode === Opcode.Reject);
      ini.send(wire);
      const r = await rej;
      assert.equal(r.bhs[2], reason);
      assert.equal(r.data.subarray(0, 48).toString('hex'), wire.subarray(0, 48).toString('hex'));
    }
    assert.equal((await ini.ping(Buffer.from('x'))).toString(), 'x');
    ini.destroy();
  });

  const sequenceFaults: Array<{ name: string; dataSn: number; offset: number; ttt?: number }> = [
    { name: 'a DataSN that does not start at 0', dataSn: 27, offset: 0 },
    { name: 'a DataSN of 0xffffffff', dataSn: 0xffffffff, offset: 0 },
    { name: 'an offset out of order', dataSn: 0, offset: 512 },
    { name: 'a Target Transfer Tag never given out', dataSn: 0, offset: 0, ttt: 0x4242 },
  ];
  for (const c of sequenceFaults) {
    it(`rejects a Data-Out with ${c.name}, drops that task and keeps the connection`, async () => {
      const ini = await TestInitiator.open(t.portal, { targetName: t.iqn, immediateData: false });
      const itt = ini.nextItt();
      const rej = ini.waitFor((p) => p.opcode === Opcode.Reject);
      ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: pdu.rw16('write', 0, 2), write: true, final: false, expectedLength: 1024 }));
      ini.send(pdu.dataOut({ itt, ttt: c.ttt, final: false, dataSn: c.dataSn, offset: c.offset, data: Buffer.alloc(512, 1) }));
      const r = await rej;
      assert.equal(r.bhs[2], RejectReason.ProtocolError);
      assert.equal(r.data.readUInt32BE(16), itt);
      // Later Data-Out for the dropped task is discarded; the session carries on.
      ini.send(pdu.dataOut({ itt, final: true, dataSn: 1, offset: 512, data: Buffer.alloc(512, 1) }));
      assert.equal((await ini.ping(Buffer.from('alive'))).toString(), 'alive');
      assert.ok(!ini.unsolicited.some((p) => p.itt === itt && p.opcode === Opcode.ScsiResponse));
      ini.destroy();
    });
  }

  it('refuses a write larger than 64 MiB with sense, and answers TASK SET FULL past the 256 MiB write budget', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn, initialR2T: true, immediateData: false });
    const big = ini.nextItt();
    const bigResp = ini.waitFor((p) => p.itt === big && p.opcode === Opcode.ScsiResponse);
    ini.send(pdu.scsiCommand({ itt: big, cmdSn: ini.cmdSn++, cdb: pdu.rw16('write', 0, 1), write: true, expectedLength: 64 * 1024 * 1024 + 512 }));
    assert.equal((await bigResp).bhs[3], 0x02);
    const MiB63 = 63 * 1024 * 1024;
    const r2ts = [0, 1, 2, 3].map(() => ini.nextItt());
    const waits = r2ts.map((itt) => ini.waitFor((p) => p.itt === itt && p.opcode === Opcode.R2T));
    for (const itt of r2ts) ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: pdu.rw16('write', 0, MiB63 / 512), write: true, expectedLength: MiB63 }));
    await Promise.all(waits);
    const full = ini.nextItt();
    const fullResp = ini.waitFor((p) => p.itt === full && p.opcode === Opcode.ScsiResponse);
    ini.send(pdu.scsiCommand({ itt: full, cmdSn: ini.cmdSn++, cdb: pdu.rw16('write', 0, MiB63 / 512), write: true, expectedLength: MiB63 }));
    assert.equal((await fullResp).bhs[3], 0x28);
    ini.destroy();
  });

  it('rejects a data segment beyond MaxRecvDataSegmentLength and closes the connection', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    const rej = ini.waitFor((p) => p.opcode === Opcode.Reject);
    ini.send(pdu.nopOut({ itt: 1, cmdSn: ini.cmdSn, data: Buffer.alloc(262145) }));
    assert.equal((await rej).bhs[2], RejectReason.ProtocolError);
    await ini.whenClosed();
  });

  it('answers a non-login PDU during login with status 0x020b and closes', async () => {
    const ini = await TestInitiator.connect(t.portal);
    const resp = ini.waitFor((p) => p.opcode === Opcode.LoginResponse);
    ini.send(pdu.nopOut({ itt: 1, cmdSn: 1 }));
    assert.equal((await resp).bhs.readUInt16BE(36), 0x020b);
    await ini.whenClosed();
  });

  it('ignores a command outside the CmdSN window and delivers early ones in CmdSN order', async () => {
    const gate = new GateUnit(new BasicLogicalUnit(t.device));
    const g = await startTestTarget({ lu: () => gate });
    try {
      const ini = await TestInitiator.open(g.portal, { targetName: g.iqn });
      const exp = ini.cmdSn;
      const farItt = ini.nextItt();
      // Far beyond MaxCmdSN: silently ignored (RFC 7143 §4.2.2.1).
      ini.send(pdu.scsiCommand({ itt: farItt, cmdSn: exp + 100000, cdb: Buffer.from([0x00, 0, 0, 0, 0, 0]), expectedLength: 0 }));
      // CmdSN exp+1 (INQUIRY) arrives before exp (TEST UNIT READY): held until exp is in.
      const a = ini.waitFor((p) => p.itt === 0x7001);
      const b = ini.waitFor((p) => p.itt === 0x7000 && p.opcode === Opcode.ScsiResponse);
      ini.send(pdu.scsiCommand({ itt: 0x7001, cmdSn: exp + 1, cdb: Buffer.from([0x12, 0, 0, 0, 36, 0]), read: true, expectedLength: 36 }));
      ini.send(pdu.scsiCommand({ itt: 0x7000, cmdSn: exp, cdb: Buffer.from([0x00, 0, 0, 0, 0, 0]), expectedLength: 0 }));
      await gate.arrived(2);
      gate.release();
      await Promise.all([a, b]);
      assert.deepEqual(gate.order, [0x00, 0x12]);
      assert.ok(!ini.unsolicited.some((p) => p.itt === farItt));
      ini.destroy();
    } finally {
      await g.close();
    }
  });

  it('ABORT TASK ends a running command without a response; unknown tasks answer per RefCmdSN', async () => {
    const gate = new GateUnit(new BasicLogicalUnit(t.device));
    const g = await startTestTarget({ lu: () => gate });
    try {
      const ini = await TestInitiator.open(g.portal, { targetName: g.iqn });
      const itt = ini.nextItt();
      const cmdSn = ini.cmdSn++;
      ini.send(pdu.scsiCommand({ itt, cmdSn, cdb: pdu.rw16('read', 0, 1), read: true, expectedLength: 512 }));
      await gate.arrived(1);
      assert.equal(await ini.taskManagement(TmfFunction.AbortTask, itt, cmdSn), TmfResponse.FunctionComplete);
      assert.deepEqual(gate.aborted, [0x88]);
      assert.equal(await ini.taskManagement(TmfFunction.AbortTask, 0x5555, ini.cmdSn + 1000), TmfResponse.TaskDoesNotExist);
      // The aborted command's CmdSN is below ExpCmdSN now: outside the window, so the task does not exist.
      assert.equal(await ini.taskManagement(TmfFunction.AbortTask, itt, cmdSn), TmfResponse.TaskDoesNotExist);
      assert.ok(!ini.unsolicited.some((p) => p.itt === itt));
      gate.release();
      assert.equal((await ini.ping(Buffer.from('after'))).toString(), 'after');
      ini.destroy();
    } finally {
      await g.close();
    }
  });

  it('task attributes: ORDERED waits for older tasks and holds back newer ones, HEAD OF QUEUE goes first (SAM-5 §8.6)', async () => {
    const gate = new GateUnit(new BasicLogicalUnit(t.device));
    const g = await startTestTarget({ lu: () => gate });
    try {
      const ini = await TestInitiator.open(g.portal, { targetName: g.iqn });
      const TUR = Buffer.from([0x00, 0, 0, 0, 0, 0]);
      const SYNC10 = Buffer.from([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const SYNC16 = Buffer.alloc(16);
      SYNC16[0] = 0x91;
      const send = (cdb: Buffer, attr: number) => {
        const itt = ini.nextItt();
        const answered = ini.waitFor((p) => p.itt === itt && p.opcode === Opcode.ScsiResponse);
        ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb, attr, expectedLength: 0 }));
        return answered.then((p) => p.bhs[3]);
      };
      const a = send(TUR, 1); // SIMPLE
      await gate.seen(1);
      const b = send(SYNC10, 2); // ORDERED: waits for a
      const c = send(SYNC16, 1); // SIMPLE: waits for b
      await ini.ping();
      assert.deepEqual(gate.order, [0x00], 'ORDERED waits for the older SIMPLE task, the newer SIMPLE for it');
      const d = send(TUR, 3); // HEAD OF QUEUE: runs at once
      await gate.seen(2);
      gate.releaseOldest(); // a completes
      assert.equal(await a, 0);
      await ini.ping();
      assert.deepEqual(gate.order, [0x00, 0x00], 'ORDERED also waits for the HEAD OF QUEUE task');
      gate.releaseOldest(); // d completes
      assert.equal(await d, 0);
      await gate.seen(3);
      await ini.ping();
      assert.deepEqual(gate.order, [0x00, 0x00, 0x35], 'the SIMPLE task behind ORDERED still waits');
      gate.releaseOldest(); // b completes
      assert.equal(await b, 0);
      await gate.seen(4);
      gate.release();
      assert.equal(await c, 0);
      assert.deepEqual(gate.order, [0x00, 0x00, 0x35, 0x91]);
      ini.destroy();
    } finally {
      await g.close();
    }
  });

  it('task attributes span sessions (one task set, TST 000b); aborting a waiting ORDERED task lets the tasks behind it go', async () => {
    const gate = new GateUnit(new BasicLogicalUnit(t.device));
    const g = await startTestTarget({ lu: () => gate });
    try {
      const one = await TestInitiator.open(g.portal, { targetName: g.iqn });
      const two = await TestInitiator.open(g.portal, { targetName: g.iqn, isid: '400000000002' });
      const tur = (ini: TestInitiator, attr: number) => {
        const itt = ini.nextItt();
        const cmdSn = ini.cmdSn++;
        const answered = ini.waitFor((p) => p.itt === itt && p.opcode === Opcode.ScsiResponse);
        ini.send(pdu.scsiCommand({ itt, cmdSn, cdb: Buffer.from([0x00, 0, 0, 0, 0, 0]), attr, expectedLength: 0 }));
        return { itt, cmdSn, answered };
      };
      const a = tur(one, 1); // SIMPLE on session one
      await gate.seen(1);
      const b = tur(two, 2); // ORDERED on session two: waits for a
      const bNeverAnswered = b.answered.then(() => false, () => true);
      const c = tur(two, 1); // SIMPLE behind it
      await two.ping();
      assert.equal(gate.order.length, 1, 'the ORDERED task of another session waits for the SIMPLE one');
      assert.equal(await two.taskManagement(TmfFunction.AbortTask, b.itt, b.cmdSn), TmfResponse.FunctionComplete);
      await gate.seen(2);
      assert.equal(gate.order.length, 2, 'the SIMPLE task behind the aborted ORDERED one runs, while a still runs');
      gate.release();
      await Promise.all([a.answered, c.answered]);
      await two.ping();
      assert.ok(!two.unsolicited.some((p) => p.itt === b.itt), 'the aborted task is never answered');
      assert.equal(gate.order.length, 2, 'the aborted task never reached the unit');
      one.destroy();
      two.destroy();
      assert.equal(await bNeverAnswered, true);
    } finally {
      await g.close();
    }
  });

  it('ABORT TASK of a command that already answered is "task does not exist", never "function complete" (libiscsi AbortTaskSimpleAsync)', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    try {
      const data = Buffer.alloc(4096, 0x5a);
      const cmdSn = ini.cmdSn;
      const itt = ini.nextItt() + 1; // tags count up: the write below takes the next one
      assert.equal(await ini.write(0, data), 0);
      assert.equal(await ini.taskManagement(TmfFunction.AbortTask, itt, cmdSn), TmfResponse.TaskDoesNotExist);
      assert.deepEqual((await ini.read(0, 8)).data, data);
    } finally {
      ini.destroy();
    }
  });

  it('ABORT TASK of a command still on its way counts its CmdSN as received: later commands run, the late one is dropped (RFC 7143 §11.6.1)', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    try {
      const gap = ini.cmdSn;
      const lostItt = 0x6100;
      const laterItt = 0x6101;
      // CmdSN gap+1 arrives first and waits for gap (TEST UNIT READY).
      const later = ini.waitFor((p) => p.itt === laterItt && p.opcode === Opcode.ScsiResponse);
      ini.send(pdu.scsiCommand({ itt: laterItt, cmdSn: gap + 1, cdb: Buffer.from([0x00, 0, 0, 0, 0, 0]), expectedLength: 0 }));
      ini.cmdSn = gap + 2;
      // The initiator gives up on CmdSN gap: the target counts it as received, so gap+1 runs.
      assert.equal(await ini.taskManagement(TmfFunction.AbortTask, lostItt, gap), TmfResponse.FunctionComplete);
      await later;
      // The aborted command turns up after all: dropped, never answered.
      ini.send(pdu.scsiCommand({ itt: lostItt, cmdSn: gap, cdb: Buffer.from([0x00, 0, 0, 0, 0, 0]), expectedLength: 0 }));
      assert.equal((await ini.ping(Buffer.from('after'))).toString(), 'after');
      assert.ok(!ini.unsolicited.some((p) => p.itt === lostItt));
    } finally {
      ini.destroy();
    }
  });

  const tmfs: Array<{ fn: number; lun: number; response: number; forwarded?: string }> = [
    { fn: TmfFunction.AbortTaskSet, lun: 0, response: TmfResponse.FunctionComplete, forwarded: 'abort-task-set' },
    { fn: TmfFunction.ClearTaskSet, lun: 0, response: TmfResponse.FunctionComplete, forwarded: 'clear-task-set' },
    { fn: TmfFunction.LogicalUnitReset, lun: 0, response: TmfResponse.FunctionComplete, forwarded: 'lun-reset' },
    { fn: TmfFunction.TargetWarmReset, lun: 0, response: TmfResponse.FunctionComplete, forwarded: 'target-warm-reset' },
    { fn: TmfFunction.LogicalUnitReset, lun: 3, response: TmfResponse.LunDoesNotExist },
    { fn: TmfFunction.ClearAca, lun: 0, response: TmfResponse.NotSupported },
    { fn: TmfFunction.TaskReassign, lun: 0, response: TmfResponse.ReassignmentNotSupported },
    { fn: 0x20, lun: 0, response: TmfResponse.Rejected },
  ];
  for (const c of tmfs) {
    it(`task management function ${c.fn} on LUN ${c.lun} answers ${c.response}${c.forwarded !== undefined ? ` and reaches the unit as ${c.forwarded}` : ''}`, async () => {
      const basic = t.lu as BasicLogicalUnit;
      const before = basic.managed.length;
      const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
      const itt = ini.nextItt();
      const r = ini.waitFor((p) => p.itt === itt && p.opcode === Opcode.TaskMgmtResponse);
      ini.send(pdu.tmf({ itt, cmdSn: ini.cmdSn, fn: c.fn, lun: c.lun }));
      assert.equal((await r).bhs[2], c.response);
      assert.deepEqual(basic.managed.slice(before), c.forwarded === undefined ? [] : [c.forwarded]);
      ini.destroy();
    });
  }

  it('TARGET COLD RESET answers, then drops every connection', async () => {
    const g = await startTestTarget();
    try {
      const a = await TestInitiator.open(g.portal, { targetName: g.iqn, isid: '400001370001' });
      const b = await TestInitiator.open(g.portal, { targetName: g.iqn, isid: '400001370002' });
      assert.equal(await a.taskManagement(TmfFunction.TargetColdReset), TmfResponse.FunctionComplete);
      await Promise.all([a.whenClosed(), b.whenClosed()]);
    } finally {
      await g.close();
    }
  });

  it('runs two sessions at once (two paths) and reinstates a session that logs in again with the same ISID', async () => {
    const a = await TestInitiator.open(t.portal, { targetName: t.iqn, isid: '400001370010' });
    const b = await TestInitiator.open(t.portal, { targetName: t.iqn, isid: '400001370011' });
    const da = randomBytes(8192);
    const db = randomBytes(8192);
    await Promise.all([a.write(1000, da), b.write(2000, db)]);
    assert.ok((await b.read(1000, 16)).data.equals(da));
    assert.ok((await a.read(2000, 16)).data.equals(db));
    const again = await TestInitiator.open(t.portal, { targetName: t.iqn, isid: '400001370010' });
    await a.whenClosed();
    assert.ok((await again.read(2000, 16)).data.equals(db));
    b.destroy();
    again.destroy();
  });

  it('refuses a login that tries to add a connection to a session (MaxConnections=1) or names no session', async () => {
    const a = await TestInitiator.open(t.portal, { targetName: t.iqn, isid: '400001370020' });
    for (const [tsih, status] of [[0xfff0, 0x020a]] as const) {
      const c = await TestInitiator.connect(t.portal);
      const resp = c.waitFor((p) => p.opcode === Opcode.LoginResponse);
      c.send(pdu.login({ csg: 1, nsg: 3, transit: true, tsih, pairs: [['InitiatorName', 'iqn.x'], ['TargetName', t.iqn]] }));
      assert.equal((await resp).bhs.readUInt16BE(36), status);
      await c.whenClosed();
    }
    a.destroy();
  });

  it('logs out: response 0 and the target closes the connection', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    assert.equal(await ini.logout(), 0);
    assert.ok(ini.closed);
  });

  it('answers a logout for connection recovery with "not supported" (ErrorRecoveryLevel 0)', async () => {
    const ini = await TestInitiator.open(t.portal, { targetName: t.iqn });
    assert.equal(await ini.logout(2), 2);
    ini.destroy();
  });
});

describe('iSCSI target NOP-In pings', T, () => {
  it('pings an idle initiator and keeps a connection that answers', async () => {
    const g = await startTestTarget({ tuning: { nopIntervalMs: 20, nopTimeoutMs: 200 } });
    try {
      const ini = await TestInitiator.open(g.portal, { targetName: g.iqn });
      ini.answerPings = false;
      const ping = await ini.waitFor((p) => p.opcode === Opcode.NopIn && p.itt === 0xffffffff);
      ini.send(pdu.nopOut({ itt: 0xffffffff, ttt: ping.bhs.readUInt32BE(20), cmdSn: ini.cmdSn, immediate: true }));
      const second = await ini.waitFor((p) => p.opcode === Opcode.NopIn && p.itt === 0xffffffff);
      assert.notEqual(second.bhs.readUInt32BE(20), 0xffffffff);
      assert.equal(ini.closed, false);
      ini.destroy();
    } finally {
      await g.close();
    }
  });

  it('drops a connection whose initiator never answers', async () => {
    const g = await startTestTarget({ tuning: { nopIntervalMs: 20, nopTimeoutMs: 100 } });
    try {
      const ini = await TestInitiator.open(g.portal, { targetName: g.iqn, answerPings: false });
      await ini.whenClosed();
      assert.ok(g.logs.some((l) => l.includes('did not answer NOP-In')));
    } finally {
      await g.close();
    }
  });
});

describe('iSCSI target login timeout', T, () => {
  it('closes a connection that connects and never completes its login', async () => {
    const g = await startTestTarget({ tuning: { loginTimeoutMs: 100 } });
    try {
      const [host, port] = g.portal.split(':') as [string, string];
      const sock = connect(Number(port), host);
      await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
      const closedAt = await new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now())));
      assert.ok(closedAt > 0);
      assert.ok(g.logs.some((l) => l.includes('login not complete within 100 ms')));
    } finally {
      await g.close();
    }
  });

  it('keeps a logged-in session past the login timeout', async () => {
    // The first NOP-In ping of an idle session comes after 2 × 150 ms, well past the 100 ms login timeout.
    const g = await startTestTarget({ tuning: { loginTimeoutMs: 100, nopIntervalMs: 150, nopTimeoutMs: 10_000 } });
    try {
      const ini = await TestInitiator.open(g.portal, { targetName: g.iqn, answerPings: false });
      await ini.waitFor((p) => p.opcode === Opcode.NopIn && p.itt === 0xffffffff);
      assert.equal(ini.closed, false);
      assert.equal(await ini.logout(), 0);
    } finally {
      await g.close();
    }
  });
});

describe('iSCSI target authentication', T, () => {
  const chap = { user: 'alice', secret: 'alice-secret-1', mutualUser: 'tgt', mutualSecret: 'target-secret-1' };
  let t: TestTarget;
  before(async () => {
    t = await startTestTarget({ chap });
  });
  after(async () => {
    await t.close();
  });

  const cases: Array<{ name: string; opts: InitiatorOptions; status: number }> = [
    { name: 'the right secret', opts: { chap: { user: 'alice', secret: 'alice-secret-1' } }, status: 0 },
    { name: 'a wrong secret', opts: { chap: { user: 'alice', secret: 'nope' } }, status: 0x0201 },
    { name: 'no authentication', opts: {}, status: 0x0201 },
    { name: 'mutual CHAP with the right secrets', opts: { chap: { user: 'alice', secret: 'alice-secret-1', mutual: { user: 'tgt', secret: 'target-secret-1' } } }, status: 0 },
  ];
  for (const c of cases) {
    it(`logs in with ${c.name} → status 0x${c.status.toString(16).padStart(4, '0')}`, async () => {
      const ini = await TestInitiator.connect(t.portal);
      const r = await ini.login({ targetName: t.iqn, ...c.opts });
      assert.equal(r.status, c.status);
      if (c.status === 0) assert.equal((await ini.read(0, 1)).status, 0);
      else await ini.whenClosed();
      ini.destroy();
    });
  }

  it('detects a target that proves the wrong mutual secret', async () => {
    const ini = await TestInitiator.connect(t.portal);
    await assert.rejects(ini.login({ targetName: t.iqn, chap: { user: 'alice', secret: 'alice-secret-1', mutual: { user: 'tgt', secret: 'other' } } }), /mutual CHAP/);
    ini.destroy();
  });
});

describe('iSCSI target with the SCSI layer unit', T, () => {
  it('brings a device resize to the unit: the next command gets CAPACITY DATA HAS CHANGED', async () => {
    const log = createLogger('scsi-test', { sink: () => {} });
    const g = await startTestTarget({ lu: (device) => createBlockLogicalUnit({ device, volume: 'vol1', log }) });
    try {
      const ini = await TestInitiator.open(g.portal, { targetName: g.iqn });
      // Clear the power-on unit attention first.
      const first = async () => {
        const itt = ini.nextItt();
        const w = ini.waitFor((p) => p.itt === itt && (p.opcode === Opcode.ScsiResponse || (p.flags & 1) === 1));
        ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: Buffer.alloc(6), expectedLength: 0 }));
        return w;
      };
      await first();
      assert.equal((await first()).bhs[3], 0);
      g.device.resize(16 * 1024 * 1024);
      const r = await first();
      assert.equal(r.bhs[3], 0x02);
      // Fixed sense after the 2-byte SenseLength: key UNIT ATTENTION, ASC/ASCQ 2Ah/09h.
      assert.deepEqual([(r.data[4] as number) & 0x0f, r.data[14], r.data[15]], [0x06, 0x2a, 0x09]);
      ini.destroy();
    } finally {
      await g.close();
    }
  });
});
