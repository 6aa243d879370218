import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/Either';
import { decodeDataOut, decodeLoginRequest, decodeLogoutRequest, decodeNopOut, decodeScsiCommand, decodeTextRequest, decodeTmfRequest } from '../../../../../engine/frontend/iscsi/pdu/decode.ts';
import * as enc from '../../../../../engine/frontend/iscsi/pdu/encode.ts';
import { Opcode, RejectReason } from '../../../../../engine/frontend/iscsi/pdu/opcodes.ts';
import { decodeTextPairs, encodeTextPairs } from '../../../../../engine/frontend/iscsi/pdu/text.ts';
import { lunOf, writeLun } from '../../../../../engine/frontend/iscsi/pdu/bhs.ts';
import * as pdu from '../../../../helpers/iscsi-pdu.ts';

function right<A>(e: E.Either<unknown, A>): A {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
}

const sn = { statSn: 0x01020304, expCmdSn: 0xfffffffe, maxCmdSn: 0x10 };

describe('initiator PDUs decode to what was built', () => {
  it('SCSI Command: flags, LUN, tags, lengths, CDB', () => {
    const b = pdu.scsiCommandBhs({ itt: 0xdeadbeef, cmdSn: 0xffffffff, expStatSn: 9, cdb: pdu.rw16('read', 123456789, 8), read: true, expectedLength: 4096, attr: 2, lun: 0, immediate: true });
    const c = right(decodeScsiCommand(b, Buffer.alloc(0)));
    assert.deepEqual({ ...c, cdb: c.cdb.toString('hex') }, {
      immediate: true, final: true, read: true, write: false, attr: 2, lun: 0, itt: 0xdeadbeef, expectedLength: 4096, cmdSn: 0xffffffff, expStatSn: 9,
      cdb: pdu.rw16('read', 123456789, 8).toString('hex'), bidiReadLength: undefined,
    });
  });

  it('SCSI Command: an Extended CDB AHS lengthens the CDB', () => {
    const b = pdu.scsiCommandBhs({ itt: 1, cmdSn: 1, cdb: Buffer.alloc(16, 0xaa), expectedLength: 0 });
    const ahs = Buffer.from([0x00, 0x05, 0x01, 0x00, 1, 2, 3, 4]);
    const c = right(decodeScsiCommand(b, ahs));
    assert.equal(c.cdb.length, 20);
    assert.equal(c.cdb.subarray(16).toString('hex'), '01020304');
  });

  const badCommands: Array<{ name: string; build: () => [Buffer, Buffer]; reason: number }> = [
    { name: 'a transfer length without R or W', build: () => [pdu.scsiCommandBhs({ itt: 1, cmdSn: 1, cdb: Buffer.alloc(16), expectedLength: 512 }), Buffer.alloc(0)], reason: RejectReason.InvalidPduField },
    { name: 'F clear on a read', build: () => [pdu.scsiCommandBhs({ itt: 1, cmdSn: 1, cdb: Buffer.alloc(16), read: true, final: false, expectedLength: 512 }), Buffer.alloc(0)], reason: RejectReason.InvalidPduField },
    { name: 'an AHS of unknown type', build: () => [pdu.scsiCommandBhs({ itt: 1, cmdSn: 1, cdb: Buffer.alloc(16), expectedLength: 0 }), Buffer.from([0, 1, 0x3f, 0])], reason: RejectReason.InvalidPduField },
    { name: 'an AHS longer than TotalAHSLength', build: () => [pdu.scsiCommandBhs({ itt: 1, cmdSn: 1, cdb: Buffer.alloc(16), expectedLength: 0 }), Buffer.from([0, 40, 1, 0])], reason: RejectReason.InvalidPduField },
  ];
  for (const c of badCommands) {
    it(`SCSI Command with ${c.name} is a protocol error naming the Reject reason`, () => {
      const [b, ahs] = c.build();
      const r = decodeScsiCommand(b, ahs);
      assert.ok(E.isLeft(r));
      assert.equal(r.left.reason, c.reason);
    });
  }

  it('Data-Out', () => {
    const w = pdu.dataOut({ itt: 7, ttt: 0x55, final: true, dataSn: 3, offset: 8192, data: Buffer.alloc(4) });
    assert.deepEqual(decodeDataOut(w.subarray(0, 48)), { final: true, lun: 0, itt: 7, ttt: 0x55, dataSn: 3, bufferOffset: 8192 });
  });

  it('NOP-Out', () => {
    const w = pdu.nopOut({ itt: 0xffffffff, ttt: 12, cmdSn: 44, immediate: true, expStatSn: 3 });
    assert.deepEqual(decodeNopOut(w.subarray(0, 48)), { immediate: true, lun: 0, itt: 0xffffffff, ttt: 12, cmdSn: 44, expStatSn: 3 });
  });

  it('Task Management request', () => {
    const w = pdu.tmf({ itt: 9, cmdSn: 10, fn: 1, rtt: 0x77, refCmdSn: 8 });
    assert.deepEqual(right(decodeTmfRequest(w.subarray(0, 48))), { immediate: true, fn: 1, lun: 0, itt: 9, referencedTaskTag: 0x77, cmdSn: 10, expStatSn: 0, refCmdSn: 8 });
  });

  it('Login Request (and T with C is refused)', () => {
    const b = pdu.loginBhs({ csg: 1, nsg: 3, transit: true, isid: '80c393a10000', tsih: 0, itt: 2, cid: 1, cmdSn: 5, expStatSn: 0, versionMax: 0, versionMin: 0 });
    assert.deepEqual(right(decodeLoginRequest(b)), { transit: true, cont: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0, isid: '80c393a10000', tsih: 0, itt: 2, cid: 1, cmdSn: 5, expStatSn: 0 });
    const both = pdu.loginBhs({ csg: 0, nsg: 1, transit: true, cont: true });
    assert.ok(E.isLeft(decodeLoginRequest(both)));
  });

  it('Text and Logout requests', () => {
    const t = pdu.text({ itt: 3, cmdSn: 4, pairs: [['SendTargets', 'All']] });
    assert.deepEqual(right(decodeTextRequest(t.subarray(0, 48))), { immediate: false, final: true, cont: false, lun: 0, itt: 3, ttt: 0xffffffff, cmdSn: 4, expStatSn: 0 });
    const l = pdu.logout({ itt: 5, cmdSn: 6, reason: 1, cid: 2, immediate: true });
    assert.deepEqual(right(decodeLogoutRequest(l.subarray(0, 48))), { immediate: true, reason: 1, itt: 5, cid: 2, cmdSn: 6, expStatSn: 0 });
  });

  it('LUN fields round-trip for peripheral and flat addressing', () => {
    for (const lun of [0, 1, 255, 256, 16383]) {
      const b = Buffer.alloc(48);
      writeLun(b, lun);
      assert.equal(lunOf(b), lun);
    }
  });
});

describe('target PDUs carry the fields they were given', () => {
  const cases: Array<{ name: string; header: Buffer; opcode: number; check: (p: pdu.TargetPdu) => void }> = [
    {
      name: 'SCSI Response with underflow and sense',
      header: enc.encodeScsiResponse({ ...sn, itt: 5, status: 2, dataLength: 20, expDataSn: 3, underflow: 512 }),
      opcode: Opcode.ScsiResponse,
      check: (p) => {
        assert.equal(p.flags, 0x80 | 0x02);
        assert.equal(p.bhs[3], 2);
        assert.equal(p.bhs.readUIntBE(5, 3), 20);
        assert.equal(p.bhs.readUInt32BE(36), 3);
        assert.equal(p.bhs.readUInt32BE(44), 512);
      },
    },
    {
      name: 'SCSI Response with overflow',
      header: enc.encodeScsiResponse({ ...sn, itt: 5, status: 0, dataLength: 0, expDataSn: 0, overflow: 7 }),
      opcode: Opcode.ScsiResponse,
      check: (p) => {
        assert.equal(p.flags, 0x80 | 0x04);
        assert.equal(p.bhs.readUInt32BE(44), 7);
      },
    },
    {
      name: 'Data-In with phase-collapsed status',
      header: enc.encodeDataIn({ ...sn, itt: 6, lun: 0, final: true, dataLength: 512, dataSn: 2, bufferOffset: 1024, status: 0, underflow: 100 }),
      opcode: Opcode.DataIn,
      check: (p) => {
        assert.equal(p.flags, 0x80 | 0x01 | 0x02);
        assert.equal(p.bhs.readUInt32BE(20), 0xffffffff);
        assert.equal(p.bhs.readUInt32BE(36), 2);
        assert.equal(p.bhs.readUInt32BE(40), 1024);
        assert.equal(p.bhs.readUInt32BE(44), 100);
      },
    },
    {
      name: 'Data-In without status leaves StatSN and status clear',
      header: enc.encodeDataIn({ ...sn, itt: 6, lun: 0, final: false, dataLength: 512, dataSn: 0, bufferOffset: 0 }),
      opcode: Opcode.DataIn,
      check: (p) => {
        assert.equal(p.flags, 0);
        assert.equal(p.statSn, 0);
      },
    },
    {
      name: 'R2T',
      header: enc.encodeR2t({ ...sn, itt: 8, lun: 0, ttt: 0x99, r2tSn: 1, bufferOffset: 65536, desiredLength: 262144 }),
      opcode: Opcode.R2T,
      check: (p) => {
        assert.deepEqual([p.bhs.readUInt32BE(20), p.bhs.readUInt32BE(36), p.bhs.readUInt32BE(40), p.bhs.readUInt32BE(44)], [0x99, 1, 65536, 262144]);
      },
    },
    {
      name: 'Login Response with status and stages',
      header: enc.encodeLoginResponse({ ...sn, transit: true, csg: 1, nsg: 3, isid: '80c393a10000', tsih: 0x1234, itt: 1, status: 0x0201, dataLength: 0 }),
      opcode: Opcode.LoginResponse,
      check: (p) => {
        assert.equal(p.flags, 0x80 | (1 << 2) | 3);
        assert.equal(p.bhs.toString('hex', 8, 14), '80c393a10000');
        assert.equal(p.bhs.readUInt16BE(14), 0x1234);
        assert.deepEqual([p.bhs[36], p.bhs[37]], [0x02, 0x01]);
      },
    },
    {
      name: 'Reject',
      header: enc.encodeReject({ ...sn, reason: RejectReason.ProtocolError, dataLength: 48 }),
      opcode: Opcode.Reject,
      check: (p) => {
        assert.equal(p.bhs[2], 0x04);
        assert.equal(p.itt, 0xffffffff);
      },
    },
    { name: 'Task Management response', header: enc.encodeTmfResponse({ ...sn, itt: 3, response: 1 }), opcode: Opcode.TaskMgmtResponse, check: (p) => assert.equal(p.bhs[2], 1) },
    { name: 'Logout response', header: enc.encodeLogoutResponse({ ...sn, itt: 3, response: 0, time2Wait: 2, time2Retain: 20 }), opcode: Opcode.LogoutResponse, check: (p) => assert.deepEqual([p.bhs.readUInt16BE(40), p.bhs.readUInt16BE(42)], [2, 20]) },
    { name: 'NOP-In ping', header: enc.encodeNopIn({ ...sn, itt: 0xffffffff, ttt: 4, lun: 0, dataLength: 0 }), opcode: Opcode.NopIn, check: (p) => assert.equal(p.bhs.readUInt32BE(20), 4) },
    { name: 'Text response', header: enc.encodeTextResponse({ ...sn, itt: 3, lun: 0, final: true, ttt: 0xffffffff, dataLength: 10 }), opcode: Opcode.TextResponse, check: (p) => assert.equal(p.flags, 0x80) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(c.header.length, 48);
      const p = pdu.readTargetPdu(c.header, Buffer.alloc(0));
      assert.equal(p.opcode, c.opcode);
      if (c.opcode !== Opcode.DataIn && c.opcode !== Opcode.Reject) assert.notEqual(p.itt, 0);
      if (c.opcode !== Opcode.DataIn || (p.flags & 1) === 1) assert.equal(p.statSn, sn.statSn);
      assert.equal(p.expCmdSn, sn.expCmdSn);
      assert.equal(p.maxCmdSn, sn.maxCmdSn);
      c.check(p);
    });
  }

  it('the sense segment starts with a 2-byte SenseLength', () => {
    assert.equal(enc.encodeSenseSegment(Buffer.from([0x70, 0, 5])).toString('hex'), '0003700005');
  });
});

describe('text key=value lists', () => {
  it('round-trips pairs, including empty values and "=" inside values', () => {
    const pairs = [['A', '1'], ['SendTargets', ''], ['X-weird', 'a=b']] as const;
    assert.deepEqual(right(decodeTextPairs(encodeTextPairs(pairs))), pairs);
  });
  const bad: Array<{ name: string; raw: string }> = [
    { name: 'an item without "="', raw: 'NoEquals\0' },
    { name: 'an empty key', raw: '=value\0' },
    { name: 'a key with a space', raw: 'Bad Key=1\0' },
    { name: 'a 64-character key', raw: `${'K'.repeat(64)}=1\0` },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => {
      assert.ok(E.isLeft(decodeTextPairs(Buffer.from(c.raw))));
    });
  }
});

describe('golden PDUs captured from libiscsi against Shorthorn (spec/fixtures/iscsi)', () => {
  const dir = fileURLToPath(new URL('../../../../fixtures/iscsi/', import.meta.url));
  const load = (name: string) => readFileSync(dir + name, 'utf8').trim().split('\n').map((h) => Buffer.from(h, 'hex'));

  it('decodes libiscsi discovery login: operational stage straight to full feature phase', () => {
    const [login] = load('libiscsi-discovery-requests.hex');
    assert.ok(login !== undefined);
    const r = right(decodeLoginRequest(login.subarray(0, 48)));
    assert.deepEqual([r.transit, r.csg, r.nsg, r.tsih], [true, 1, 3, 0]);
    const keys = new Map(right(decodeTextPairs(login.subarray(48, 48 + login.readUIntBE(5, 3)))));
    assert.equal(keys.get('SessionType'), 'Discovery');
    assert.match(keys.get('InitiatorName') ?? '', /^iqn\.2007-10\.com\.github:sahlberg:libiscsi/);
  });

  it('decodes libiscsi SendTargets=All and Logout requests', () => {
    const [, text, logout] = load('libiscsi-discovery-requests.hex');
    assert.ok(text !== undefined && logout !== undefined);
    assert.equal((text[0] as number) & 0x3f, Opcode.TextRequest);
    assert.deepEqual(right(decodeTextPairs(text.subarray(48, 48 + text.readUIntBE(5, 3)))), [['SendTargets', 'All']]);
    assert.equal(right(decodeLogoutRequest(logout.subarray(0, 48))).reason, 0);
  });

  it('reads back the target answers: login success, TargetName/TargetAddress, logout closed', () => {
    const [login, text, logout] = load('shorthorn-discovery-responses.hex').map((b) => pdu.readTargetPdu(b.subarray(0, 48), b.subarray(48, 48 + b.readUIntBE(5, 3))));
    assert.ok(login !== undefined && text !== undefined && logout !== undefined);
    assert.equal(login.opcode, Opcode.LoginResponse);
    assert.equal(login.bhs.readUInt16BE(36), 0);
    const answered = new Map(right(decodeTextPairs(login.data)));
    assert.equal(answered.get('InitialR2T'), 'Irrelevant');
    assert.equal(answered.get('HeaderDigest'), 'None');
    const targets = right(decodeTextPairs(text.data)).map(([k]) => k);
    assert.deepEqual(targets, ['TargetName', 'TargetAddress']);
    assert.equal(logout.opcode, Opcode.LogoutResponse);
    assert.equal(text.statSn, login.statSn + 1);
  });
});
