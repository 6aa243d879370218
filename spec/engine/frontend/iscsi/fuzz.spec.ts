import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../../../api/log.ts';
import { Opcode, RejectReason } from '../../../../engine/frontend/iscsi/pdu/opcodes.ts';
import { createBlockLogicalUnit } from '../../../../engine/frontend/iscsi/scsi/index.ts';
import { TestInitiator } from '../../../helpers/iscsi-initiator.ts';
import * as pdu from '../../../helpers/iscsi-pdu.ts';
import { startTestTarget, type TestTarget } from '../../../helpers/iscsi-target.ts';
import { prng as rng } from '../../../helpers/prng.ts';

/**
 * Thousands of malformed and mutated PDUs over many connections, while one well-behaved session
 * keeps writing and verifying data. Deterministic (seeded) so a failure reproduces.
 */


const TARGET_OPCODES = new Set<number>([Opcode.NopIn, Opcode.ScsiResponse, Opcode.TaskMgmtResponse, Opcode.LoginResponse, Opcode.TextResponse, Opcode.DataIn, Opcode.LogoutResponse, Opcode.R2T, Opcode.AsyncMessage, Opcode.Reject]);
const GOOD_ISID = 'aaaa00000001';
const SCRATCH_LBA = 8192; // fuzz writes land at 4 MiB and above; the good session owns [0, 1 MiB)

interface Outcome {
  readonly scenario: string;
  readonly received: pdu.TargetPdu[];
  readonly closedByTarget: boolean;
}

type Scenario = (t: TestTarget, r: () => number, sent: { n: number }) => Promise<Outcome>;

async function withDeadline(ini: TestInitiator, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([ini.whenClosed().then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return closed;
}

function fuzzIsid(r: () => number): string {
  return 'bb' + Math.floor(r() * 0xffffffffff).toString(16).padStart(10, '0');
}

function received(ini: TestInitiator): pdu.TargetPdu[] {
  return ini.unsolicited;
}

async function loggedIn(t: TestTarget, r: () => number): Promise<TestInitiator> {
  return TestInitiator.open(t.portal, { targetName: t.iqn, isid: fuzzIsid(r), maxRecv: 65536 });
}

/** A valid post-login stream: NOPs, reads and scratch writes (with immediate data). */
function validStream(ini: TestInitiator, r: () => number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const itt = ini.nextItt();
    const k = Math.floor(r() * 3);
    if (k === 0) out.push(pdu.nopOut({ itt, cmdSn: ini.cmdSn++, data: Buffer.from('fuzz') }));
    else if (k === 1) out.push(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: pdu.rw16('read', SCRATCH_LBA + Math.floor(r() * 1000), 1), read: true, expectedLength: 512 }));
    else out.push(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: pdu.rw16('write', SCRATCH_LBA + Math.floor(r() * 1000), 1), write: true, expectedLength: 512, data: Buffer.alloc(512, i) }));
  }
  return out;
}

function mutate(b: Buffer, r: () => number): Buffer {
  const m = Buffer.from(b);
  const flips = 1 + Math.floor(r() * 4);
  for (let i = 0; i < flips; i++) {
    // Header fields only (bytes 0–31): CDBs stay as built, so no fuzz write can reach the good region.
    const at = Math.floor(r() * 32);
    m[at] = Math.floor(r() * 256);
  }
  // Never forge task management: a reset would legitimately disturb the well-behaved session.
  if (((m[0] as number) & 0x3f) === Opcode.TaskMgmtRequest) m[0] = 0x1c;
  return m;
}

const scenarios: Record<string, Scenario> = {
  'garbage before login': async (t, r, sent) => {
    const ini = await TestInitiator.connect(t.portal);
    const n = 1 + Math.floor(r() * 400);
    ini.send(Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256))));
    sent.n++;
    ini.socket.end();
    return { scenario: 'garbage before login', received: received(ini), closedByTarget: await withDeadline(ini, 3000) };
  },
  'truncated header': async (t, r, sent) => {
    const ini = await TestInitiator.connect(t.portal);
    const login = pdu.login({ csg: 0, nsg: 1, transit: true, pairs: [['InitiatorName', 'iqn.fuzz'], ['TargetName', t.iqn], ['AuthMethod', 'None']] });
    ini.send(login.subarray(0, 1 + Math.floor(r() * 47)));
    sent.n++;
    ini.socket.end();
    const closed = await withDeadline(ini, 3000);
    return { scenario: 'truncated header', received: received(ini), closedByTarget: closed };
  },
  'login in the wrong phase': async (t, r, sent) => {
    const ini = await TestInitiator.connect(t.portal);
    const wrong = r() < 0.5 ? pdu.login({ csg: 3, nsg: 3, pairs: [['InitiatorName', 'iqn.fuzz'], ['TargetName', t.iqn]] }) : pdu.scsiCommand({ itt: 1, cmdSn: 1, cdb: Buffer.alloc(16), expectedLength: 0 });
    ini.send(wrong);
    sent.n++;
    const closed = await withDeadline(ini, 3000);
    return { scenario: 'login in the wrong phase', received: received(ini), closedByTarget: closed };
  },
  'oversized login': async (t, _r, sent) => {
    const ini = await TestInitiator.connect(t.portal);
    ini.send(pdu.login({ csg: 0, nsg: 1, transit: true, pairs: [['InitiatorName', 'iqn.fuzz'], ['X-pad', 'p'.repeat(8000)], ['X-pad2', 'p'.repeat(1000)]] }));
    sent.n++;
    return { scenario: 'oversized login', received: received(ini), closedByTarget: await withDeadline(ini, 3000) };
  },
  'mutated login': async (t, r, sent) => {
    const ini = await TestInitiator.connect(t.portal);
    const login = pdu.login({ csg: 0, nsg: 1, transit: true, isid: fuzzIsid(r), pairs: [['InitiatorName', 'iqn.fuzz'], ['TargetName', t.iqn], ['AuthMethod', 'None']] });
    ini.send(mutate(login, r));
    sent.n++;
    ini.socket.end();
    return { scenario: 'mutated login', received: received(ini), closedByTarget: await withDeadline(ini, 3000) };
  },
  'unknown opcodes': async (t, r, sent) => {
    const ini = await loggedIn(t, r);
    const ops = [0x07, 0x0f, 0x1c, 0x1e, 0x3c];
    const rejects = ops.map(() => ini.waitFor((p) => p.opcode === Opcode.Reject));
    for (const op of ops) {
      const b = Buffer.alloc(48);
      b[0] = op;
      ini.send(pdu.frame(b));
      sent.n++;
    }
    for (const rej of rejects) assert.equal((await rej).bhs[2], RejectReason.CommandNotSupported);
    ini.destroy();
    return { scenario: 'unknown opcodes', received: received(ini), closedByTarget: false };
  },
  'data beyond MaxRecvDataSegmentLength': async (t, r, sent) => {
    const ini = await loggedIn(t, r);
    const rej = ini.waitFor((p) => p.opcode === Opcode.Reject);
    ini.send(pdu.scsiCommand({ itt: ini.nextItt(), cmdSn: ini.cmdSn++, cdb: pdu.rw16('write', SCRATCH_LBA, 600), write: true, expectedLength: 600 * 512, data: Buffer.alloc(600 * 512) }));
    sent.n++;
    assert.equal((await rej).bhs[2], RejectReason.ProtocolError);
    return { scenario: 'data beyond MaxRecvDataSegmentLength', received: received(ini), closedByTarget: await withDeadline(ini, 3000) };
  },
  'CmdSN outside the window': async (t, r, sent) => {
    const ini = await loggedIn(t, r);
    const badItts: number[] = [];
    for (const delta of [-1, -100, 1000, 0x7fffffff]) {
      const itt = ini.nextItt();
      badItts.push(itt);
      ini.send(pdu.scsiCommand({ itt, cmdSn: (ini.cmdSn + delta) >>> 0, cdb: Buffer.alloc(16), expectedLength: 0 }));
      sent.n++;
    }
    assert.equal((await ini.ping(Buffer.from('still here'))).toString(), 'still here');
    sent.n++;
    assert.ok(!ini.unsolicited.some((p) => badItts.includes(p.itt)), 'a command outside the window was answered');
    ini.destroy();
    return { scenario: 'CmdSN outside the window', received: received(ini), closedByTarget: false };
  },
  'wrong data segment length': async (t, r, sent) => {
    const ini = await loggedIn(t, r);
    const nop = pdu.nopOut({ itt: ini.nextItt(), cmdSn: ini.cmdSn++, data: Buffer.alloc(16, 1) });
    nop.writeUIntBE(100 + Math.floor(r() * 1000), 5, 3); // claims more than follows
    ini.send(nop);
    sent.n++;
    ini.socket.end();
    return { scenario: 'wrong data segment length', received: received(ini), closedByTarget: await withDeadline(ini, 3000) };
  },
  'login again in full feature phase': async (t, r, sent) => {
    const ini = await loggedIn(t, r);
    const rej = ini.waitFor((p) => p.opcode === Opcode.Reject);
    ini.send(pdu.login({ csg: 0, nsg: 1, transit: true, pairs: [['InitiatorName', 'iqn.fuzz']] }));
    sent.n++;
    assert.equal((await rej).bhs[2], RejectReason.ProtocolError);
    ini.destroy();
    return { scenario: 'login again in full feature phase', received: received(ini), closedByTarget: false };
  },
  'mutated full feature stream': async (t, r, sent) => {
    const ini = await loggedIn(t, r);
    ini.answerPings = false;
    const stream = validStream(ini, r, 12);
    for (const b of stream) {
      ini.send(r() < 0.4 ? mutate(b, r) : b);
      sent.n++;
    }
    ini.socket.end();
    return { scenario: 'mutated full feature stream', received: received(ini), closedByTarget: await withDeadline(ini, 3000) };
  },
};

describe('iSCSI target under malformed and mutated PDUs', { timeout: 60_000 }, () => {
  it('rejects or closes every bad connection while a well-behaved session keeps reading and writing correct data', async () => {
    const log = createLogger('fuzz-unit', { sink: () => {} });
    const t = await startTestTarget({ sizeBytes: 16 * 1024 * 1024, lu: (device) => createBlockLogicalUnit({ device, volume: 'vol1', log }) });
    try {
      const good = await TestInitiator.open(t.portal, { targetName: t.iqn, isid: GOOD_ISID, maxRecv: 65536 });
      let stop = false;
      let verified = 0;
      const shadow = new Map<number, Buffer>();
      const worker = (async () => {
        const r = rng(7);
        while (!stop) {
          const lba = Math.floor(r() * 2040);
          const data = Buffer.alloc(4096, Math.floor(r() * 256));
          data.writeUInt32BE(verified, 0);
          let status = await good.write(lba, data);
          // A unit attention is a legitimate one-off answer; a real initiator retries.
          if (status === 0x02) status = await good.write(lba, data);
          assert.equal(status, 0, 'good session write failed');
          for (let b = 0; b < 8; b++) shadow.set(lba + b, data.subarray(b * 512, (b + 1) * 512));
          const probe = Math.floor(r() * 2040);
          let rd = await good.read(probe, 8);
          if (rd.status === 0x02) rd = await good.read(probe, 8);
          assert.equal(rd.status, 0, 'good session read failed');
          for (let b = 0; b < 8; b++) {
            const want = shadow.get(probe + b) ?? Buffer.alloc(512);
            assert.ok(rd.data.subarray(b * 512, (b + 1) * 512).equals(want), `good session read wrong data at block ${probe + b}`);
          }
          verified++;
        }
      })();

      const r = rng(12345);
      const names = Object.keys(scenarios);
      const sent = { n: 0 };
      const outcomes: Outcome[] = [];
      const CONNECTIONS = 1100;
      const PARALLEL = 24;
      let next = 0;
      await Promise.all(Array.from({ length: PARALLEL }, async () => {
        while (next < CONNECTIONS) {
          const i = next++;
          const name = names[i % names.length] as string;
          outcomes.push(await (scenarios[name] as Scenario)(t, r, sent));
        }
      }));
      stop = true;
      await worker;

      assert.ok(sent.n >= 3000, `only ${sent.n} bad PDUs sent`);
      assert.equal(outcomes.length, CONNECTIONS);
      // Every PDU the target sent on a bad connection is a well-formed target PDU.
      for (const o of outcomes) for (const p of o.received) assert.ok(TARGET_OPCODES.has(p.opcode), `${o.scenario}: target sent opcode 0x${p.opcode.toString(16)}`);
      // Rules per scenario (RFC 7143 §6.9, §7, §11.13.5, §11.17).
      for (const o of outcomes) {
        switch (o.scenario) {
          case 'truncated header':
            assert.equal(o.received.length, 0, 'a truncated header got an answer');
            assert.ok(o.closedByTarget);
            break;
          case 'login in the wrong phase':
          case 'oversized login':
            assert.ok(o.received.some((p) => p.opcode === Opcode.LoginResponse && p.bhs.readUInt16BE(36) >= 0x0200), `${o.scenario}: no login reject`);
            assert.ok(o.closedByTarget, `${o.scenario}: connection left open`);
            break;
          case 'data beyond MaxRecvDataSegmentLength':
          case 'garbage before login':
          case 'mutated login':
          case 'wrong data segment length':
          case 'mutated full feature stream':
            assert.ok(o.closedByTarget, `${o.scenario}: connection not closed`);
            break;
          default:
            break;
        }
      }
      assert.ok(verified >= 20, `the good session verified only ${verified} rounds`);
      process.stderr.write(`fuzz: ${sent.n} bad PDUs on ${outcomes.length} connections; good session verified ${verified} rounds\n`);
      // The target still takes a fresh session.
      const after = await TestInitiator.open(t.portal, { targetName: t.iqn, isid: 'cc0000000001' });
      // The first command of a new I_T nexus may report the power-on unit attention (SAM-5).
      const first = await after.read(0, 1);
      assert.equal(first.status === 0x02 ? (await after.read(0, 1)).status : first.status, 0);
      after.destroy();
      good.destroy();
    } finally {
      await t.close();
    }
  });
});
