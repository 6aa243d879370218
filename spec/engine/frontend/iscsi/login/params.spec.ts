import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KEYS, TARGET_MAX_RECV, applyOutcome, defaultSessionParams, negotiateKey } from '../../../../../engine/frontend/iscsi/login/params.ts';

// One row per key and case: what the initiator offers, and what the target must answer
// (RFC 7143 §6.2 result functions, §13 ranges and defaults). `declared` = no answer is due.
const rows: Array<{ key: string; offer: string; answer: string; discovery?: boolean }> = [
  // list: the first value of the offer that we support
  { key: 'HeaderDigest', offer: 'CRC32C,None', answer: 'CRC32C' },
  { key: 'HeaderDigest', offer: 'None,CRC32C', answer: 'None' },
  { key: 'HeaderDigest', offer: 'MD5', answer: 'Reject' },
  { key: 'DataDigest', offer: 'CRC32C', answer: 'CRC32C' },
  { key: 'DataDigest', offer: 'None', answer: 'None' },
  { key: 'AuthMethod', offer: 'KRB5,CHAP,None', answer: 'CHAP' },
  { key: 'AuthMethod', offer: 'SRP', answer: 'Reject' },
  { key: 'TaskReporting', offer: 'FastAbort,RFC3720', answer: 'RFC3720' },
  { key: 'TaskReporting', offer: 'RFC3720', answer: 'Irrelevant', discovery: true },
  // min
  { key: 'MaxConnections', offer: '8', answer: '1' },
  { key: 'MaxConnections', offer: '0', answer: 'Reject' },
  { key: 'MaxConnections', offer: '4', answer: 'Irrelevant', discovery: true },
  { key: 'MaxBurstLength', offer: '262144', answer: '262144' },
  { key: 'MaxBurstLength', offer: '16777215', answer: '16776192' },
  { key: 'MaxBurstLength', offer: '511', answer: 'Reject' },
  { key: 'MaxBurstLength', offer: '0x40000', answer: '262144' },
  { key: 'MaxBurstLength', offer: 'lots', answer: 'Reject' },
  { key: 'FirstBurstLength', offer: '65536', answer: '65536' },
  { key: 'FirstBurstLength', offer: '16777216', answer: 'Reject' },
  { key: 'DefaultTime2Retain', offer: '20', answer: '0' },
  { key: 'DefaultTime2Retain', offer: '3601', answer: 'Reject' },
  { key: 'MaxOutstandingR2T', offer: '1', answer: '1' },
  { key: 'MaxOutstandingR2T', offer: '64', answer: '16' },
  { key: 'ErrorRecoveryLevel', offer: '2', answer: '0' },
  { key: 'ErrorRecoveryLevel', offer: '3', answer: 'Reject' },
  { key: 'iSCSIProtocolLevel', offer: '2', answer: '1' },
  // max
  { key: 'DefaultTime2Wait', offer: '0', answer: '2' },
  { key: 'DefaultTime2Wait', offer: '10', answer: '10' },
  { key: 'DefaultTime2Wait', offer: '-1', answer: 'Reject' },
  // OR (ours: InitialR2T No, DataPDUInOrder Yes, DataSequenceInOrder Yes)
  { key: 'InitialR2T', offer: 'Yes', answer: 'Yes' },
  { key: 'InitialR2T', offer: 'No', answer: 'No' },
  { key: 'InitialR2T', offer: 'Maybe', answer: 'Reject' },
  { key: 'InitialR2T', offer: 'No', answer: 'Irrelevant', discovery: true },
  { key: 'DataPDUInOrder', offer: 'No', answer: 'Yes' },
  { key: 'DataSequenceInOrder', offer: 'No', answer: 'Yes' },
  // AND (ours: ImmediateData Yes, markers No)
  { key: 'ImmediateData', offer: 'Yes', answer: 'Yes' },
  { key: 'ImmediateData', offer: 'No', answer: 'No' },
  { key: 'IFMarker', offer: 'Yes', answer: 'No' },
  { key: 'OFMarker', offer: 'No', answer: 'No' },
  { key: 'IFMarkInt', offer: '2048~8192', answer: 'Irrelevant' },
  { key: 'OFMarkInt', offer: '2048', answer: 'Irrelevant' },
  // declarative
  { key: 'MaxRecvDataSegmentLength', offer: '65536', answer: 'declared' },
  { key: 'MaxRecvDataSegmentLength', offer: '511', answer: 'Reject' },
  { key: 'MaxRecvDataSegmentLength', offer: '16777216', answer: 'Reject' },
  { key: 'InitiatorName', offer: 'iqn.x', answer: 'declared' },
  { key: 'InitiatorAlias', offer: 'host', answer: 'declared' },
  { key: 'TargetName', offer: 'iqn.y', answer: 'declared' },
  { key: 'SessionType', offer: 'Normal', answer: 'declared' },
  // sent by the target only, or full feature phase only
  { key: 'TargetAlias', offer: 'x', answer: 'Reject' },
  { key: 'TargetAddress', offer: '1.2.3.4', answer: 'Reject' },
  { key: 'TargetPortalGroupTag', offer: '1', answer: 'Reject' },
  { key: 'SendTargets', offer: 'All', answer: 'Reject' },
  // unknown
  { key: 'X-com.example.Thing', offer: '1', answer: 'NotUnderstood' },
  { key: 'FancyNewKey', offer: 'Yes', answer: 'NotUnderstood' },
];

describe('login key negotiation (RFC 7143 §6.2, §13)', () => {
  for (const r of rows) {
    it(`${r.key}=${r.offer}${r.discovery === true ? ' in a discovery session' : ''} → ${r.answer}`, () => {
      const o = negotiateKey(r.key, r.offer, { discovery: r.discovery === true });
      assert.equal(o._tag === 'Declared' ? 'declared' : o.answer, r.answer);
    });
  }

  it('covers every standard key in the table above', () => {
    const tested = new Set(rows.map((r) => r.key));
    const missing = Object.keys(KEYS).filter((k) => !tested.has(k));
    assert.deepEqual(missing, []);
  });

  it('starts from the RFC defaults and records outcomes', () => {
    const p = defaultSessionParams();
    assert.deepEqual(
      [p.initiatorMaxRecv, p.maxBurstLength, p.firstBurstLength, p.initialR2T, p.immediateData, p.maxOutstandingR2T, p.errorRecoveryLevel, p.defaultTime2Wait, p.defaultTime2Retain, p.maxConnections, p.headerDigest],
      [8192, 262144, 65536, true, true, 1, 0, 2, 20, 1, false],
    );
    applyOutcome(p, 'HeaderDigest', 'CRC32C');
    applyOutcome(p, 'MaxRecvDataSegmentLength', 1024);
    applyOutcome(p, 'InitialR2T', false);
    assert.deepEqual([p.headerDigest, p.initiatorMaxRecv, p.initialR2T, p.targetMaxRecv], [true, 1024, false, TARGET_MAX_RECV]);
  });
});
