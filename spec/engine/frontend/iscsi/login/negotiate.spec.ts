import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoginNegotiation, MAX_LOGIN_TEXT_BYTES, type LoginTarget } from '../../../../../engine/frontend/iscsi/login/negotiate.ts';
import { chapResponse, encodeChapBinary } from '../../../../../engine/frontend/iscsi/login/chap.ts';
import type { LoginRequestPdu } from '../../../../../engine/frontend/iscsi/pdu/decode.ts';
import { encodeTextPairs, type TextPair } from '../../../../../engine/frontend/iscsi/pdu/text.ts';

const IQN = 'iqn.2026-11.io.shorthorn:vol1';
const open: LoginTarget = { targetName: IQN, portalGroupTag: 1 };
const chap: LoginTarget = { targetName: IQN, portalGroupTag: 1, chap: { user: 'u', secret: 'secret-secret' }, random: (n) => Buffer.alloc(n, 3) };

function req(f: Partial<LoginRequestPdu> & { csg: number }): LoginRequestPdu {
  return { transit: false, cont: false, nsg: f.csg, versionMax: 0, versionMin: 0, isid: '400001370000', tsih: 0, itt: 1, cid: 0, cmdSn: 1, expStatSn: 0, ...f };
}
const first: TextPair[] = [['InitiatorName', 'iqn.test:i'], ['SessionType', 'Normal'], ['TargetName', IQN]];

// Each case is a list of requests; the last one's status is checked (earlier ones must succeed).
const failures: Array<{ name: string; target: LoginTarget; steps: Array<[LoginRequestPdu, TextPair[]]>; status: number }> = [
  { name: 'a first request without InitiatorName', target: open, steps: [[req({ csg: 0, transit: true, nsg: 1 }), [['TargetName', IQN], ['AuthMethod', 'None']]]], status: 0x0207 },
  { name: 'a Normal session without TargetName', target: open, steps: [[req({ csg: 0, transit: true, nsg: 1 }), [['InitiatorName', 'iqn.test:i'], ['AuthMethod', 'None']]]], status: 0x0207 },
  { name: 'an unknown TargetName', target: open, steps: [[req({ csg: 0, transit: true, nsg: 1 }), [['InitiatorName', 'iqn.test:i'], ['TargetName', 'iqn.nope'], ['AuthMethod', 'None']]]], status: 0x0203 },
  { name: 'an unknown SessionType', target: open, steps: [[req({ csg: 0, transit: true, nsg: 1 }), [['InitiatorName', 'iqn.test:i'], ['SessionType', 'Fancy']]]], status: 0x0209 },
  { name: 'a version range without 0', target: open, steps: [[req({ csg: 0, versionMin: 1, versionMax: 2 }), first]], status: 0x0205 },
  { name: 'a key sent twice in one request', target: open, steps: [[req({ csg: 1, transit: true, nsg: 3 }), [...first, ['MaxBurstLength', '512'], ['MaxBurstLength', '1024']]]], status: 0x0200 },
  { name: 'a key sent again in a later request', target: open, steps: [[req({ csg: 1 }), [...first, ['MaxBurstLength', '512']]], [req({ csg: 1, transit: true, nsg: 3 }), [['MaxBurstLength', '1024']]]], status: 0x0200 },
  { name: 'AuthMethod in the operational stage', target: open, steps: [[req({ csg: 1, transit: true, nsg: 3 }), [...first, ['AuthMethod', 'None']]]], status: 0x0200 },
  { name: 'a move to the reserved stage 2', target: open, steps: [[req({ csg: 0, transit: true, nsg: 2 }), [...first, ['AuthMethod', 'None']]]], status: 0x0200 },
  { name: 'a request in a stage other than the current one', target: open, steps: [[req({ csg: 0 }), [...first, ['AuthMethod', 'None']]], [req({ csg: 1, transit: true, nsg: 3 }), []]], status: 0x0200 },
  { name: 'CSG 3 (full feature phase) in a Login Request', target: open, steps: [[req({ csg: 3 }), first]], status: 0x0200 },
  { name: 'an empty first request', target: open, steps: [[req({ csg: 0 }), []]], status: 0x0207 },
  { name: 'AuthMethod=None when CHAP is required', target: chap, steps: [[req({ csg: 0, transit: true, nsg: 1 }), [...first, ['AuthMethod', 'None']]]], status: 0x0201 },
  { name: 'skipping the security stage when CHAP is required', target: chap, steps: [[req({ csg: 1, transit: true, nsg: 3 }), first]], status: 0x0201 },
  { name: 'a wrong CHAP secret', target: chap, steps: [
    [req({ csg: 0 }), [...first, ['AuthMethod', 'CHAP,None']]],
    [req({ csg: 0 }), [['CHAP_A', '5']]],
    [req({ csg: 0, transit: true, nsg: 1 }), [['CHAP_N', 'u'], ['CHAP_R', encodeChapBinary(chapResponse(3, 'not-the-secret', Buffer.alloc(16, 3)))]]],
  ], status: 0x0201 },
];

function run(target: LoginTarget, steps: Array<[LoginRequestPdu, TextPair[]]>) {
  const n = new LoginNegotiation(target);
  let last;
  for (const [i, [r, pairs]] of steps.entries()) {
    last = n.step(r, encodeTextPairs(pairs));
    if (i < steps.length - 1) assert.equal(last.status, 0, `step ${i} failed: ${last.reason}`);
  }
  return { n, last: last as NonNullable<typeof last> };
}

describe('login negotiation (RFC 7143 §6.3)', () => {
  for (const c of failures) {
    it(`refuses ${c.name} with status 0x${c.status.toString(16).padStart(4, '0')}`, () => {
      const { last } = run(c.target, c.steps);
      assert.equal(last.status, c.status);
      assert.equal(last.done, false);
    });
  }

  it('logs in without authentication: security → operational → full feature', () => {
    const n = new LoginNegotiation(open);
    const a = n.step(req({ csg: 0, transit: true, nsg: 1 }), encodeTextPairs([...first, ['AuthMethod', 'None']]));
    assert.deepEqual([a.status, a.transit, a.nsg, a.done], [0, true, 1, false]);
    assert.deepEqual(a.pairs, [['TargetPortalGroupTag', '1'], ['AuthMethod', 'None']]);
    const b = n.step(req({ csg: 1, transit: true, nsg: 3 }), encodeTextPairs([['HeaderDigest', 'CRC32C,None'], ['MaxRecvDataSegmentLength', '4096'], ['MaxBurstLength', '65536'], ['FirstBurstLength', '262144'], ['InitialR2T', 'No']]));
    assert.deepEqual([b.status, b.transit, b.nsg, b.done], [0, true, 3, true]);
    assert.deepEqual(new Map(b.pairs).get('MaxRecvDataSegmentLength'), '262144');
    assert.deepEqual([n.params.headerDigest, n.params.initiatorMaxRecv, n.params.maxBurstLength, n.params.firstBurstLength, n.params.initialR2T], [true, 4096, 65536, 65536, false]);
  });

  it('joins text split over Login Requests with the C bit', () => {
    const n = new LoginNegotiation(open);
    const whole = encodeTextPairs([...first, ['AuthMethod', 'None']]);
    const a = n.step(req({ csg: 0, cont: true }), whole.subarray(0, 20));
    assert.deepEqual([a.status, a.pairs.length, a.transit], [0, 0, false]);
    const b = n.step(req({ csg: 0, transit: true, nsg: 1 }), whole.subarray(20));
    assert.equal(b.status, 0);
    assert.equal(new Map(b.pairs).get('AuthMethod'), 'None');
    assert.equal(n.initiatorName, 'iqn.test:i');
  });

  it('refuses login text that grows past MAX_LOGIN_TEXT_BYTES over continued requests, and names the limit', () => {
    const n = new LoginNegotiation(open);
    const piece = Buffer.alloc(8192, 0x41);
    let last = n.step(req({ csg: 0, cont: true }), piece);
    let sent = piece.length;
    while (sent + piece.length <= MAX_LOGIN_TEXT_BYTES) {
      assert.equal(last.status, 0);
      last = n.step(req({ csg: 0, cont: true }), piece);
      sent += piece.length;
    }
    assert.equal(last.status, 0, 'exactly the limit is still taken');
    const over = n.step(req({ csg: 0, cont: true }), Buffer.alloc(1, 0x41));
    assert.equal(over.status, 0x0200);
    assert.match(over.reason ?? '', new RegExp(`longer than ${MAX_LOGIN_TEXT_BYTES} bytes`));
  });

  it('holds the transit until CHAP is done, then goes to full feature phase', () => {
    const n = new LoginNegotiation(chap);
    const a = n.step(req({ csg: 0, transit: true, nsg: 1 }), encodeTextPairs([...first, ['AuthMethod', 'CHAP,None']]));
    assert.deepEqual([a.status, a.transit], [0, false]);
    const b = n.step(req({ csg: 0, transit: true, nsg: 1 }), encodeTextPairs([['CHAP_A', '5']]));
    assert.deepEqual([b.status, b.transit], [0, false]);
    assert.equal(new Map(b.pairs).get('CHAP_I'), '3');
    const c = n.step(req({ csg: 0, transit: true, nsg: 3 }), encodeTextPairs([['CHAP_N', 'u'], ['CHAP_R', encodeChapBinary(chapResponse(3, 'secret-secret', Buffer.alloc(16, 3)))]]));
    assert.deepEqual([c.status, c.transit, c.nsg, c.done], [0, true, 3, true]);
  });

  it('lets a discovery session in without CHAP even when the target has CHAP', () => {
    const n = new LoginNegotiation(chap);
    const a = n.step(req({ csg: 0, transit: true, nsg: 3 }), encodeTextPairs([['InitiatorName', 'iqn.test:i'], ['SessionType', 'Discovery'], ['AuthMethod', 'None']]));
    assert.deepEqual([a.status, a.done], [0, true]);
    assert.equal(n.sessionType, 'Discovery');
  });
});
