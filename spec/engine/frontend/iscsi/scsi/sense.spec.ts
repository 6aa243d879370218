import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import { BlockIoError } from '../../../../../engine/block-device.ts';
import { decodeBlockRange } from '../../../../../engine/frontend/iscsi/scsi/cdb.ts';
import { Asc, buildSense, senseForIoError, SenseKey } from '../../../../../engine/frontend/iscsi/scsi/sense.ts';
import { blockCdb, senseOf } from './harness.ts';

describe('fixed-format sense', () => {
  it('lays out response code, key, ASC/ASCQ and additional length', () => {
    const s = buildSense({ key: SenseKey.IllegalRequest, asc: Asc.LbaOutOfRange });
    assert.equal(s.length, 18);
    assert.deepEqual([s[0], s[2], s[7], s[12], s[13], s[15]], [0x70, 0x05, 10, 0x21, 0x00, 0]);
  });

  it('sets VALID and INFORMATION when given', () => {
    const s = buildSense({ key: SenseKey.Miscompare, asc: Asc.MiscompareDuringVerify, information: 0x1234 });
    assert.equal(s[0], 0xf0);
    assert.equal(s.readUInt32BE(3), 0x1234);
  });

  it('points at a CDB field with SKSV, C/D and BPV', () => {
    const s = buildSense({ key: SenseKey.IllegalRequest, asc: Asc.InvalidFieldInCdb, field: { inCdb: true, byte: 2, bit: 5 } });
    assert.deepEqual([s[15], s.readUInt16BE(16)], [0x80 | 0x40 | 0x08 | 5, 2]);
  });

  it('points at a parameter-list byte without C/D', () => {
    const s = buildSense({ key: SenseKey.IllegalRequest, asc: Asc.InvalidFieldInParameterList, field: { inCdb: false, byte: 20 } });
    assert.deepEqual([s[15], s.readUInt16BE(16)], [0x80, 20]);
  });

  const mapping = [
    { code: 'ENOSPC', dir: 'write', want: '07/27/07' },
    { code: 'EIO', dir: 'read', want: '03/11/00' },
    { code: 'EIO', dir: 'write', want: '03/0c/00' },
    { code: 'EIO', dir: 'other', want: '04/44/00' },
    { code: 'ERANGE', dir: 'read', want: '05/21/00' },
    { code: 'EINVAL', dir: 'write', want: '05/24/00' },
  ] as const;
  for (const m of mapping) {
    it(`maps ${m.code} on ${m.dir} to ${m.want}`, () => {
      assert.equal(senseOf(senseForIoError(new BlockIoError(m.code, 'x'), m.dir)), m.want);
    });
  }

  it('maps an unknown error to HARDWARE ERROR / INTERNAL TARGET FAILURE', () => {
    assert.equal(senseOf(senseForIoError(new Error('boom'), 'read')), '04/44/00');
  });
});

describe('block CDB decoding', () => {
  const cases = [
    { name: 'READ (6) 21-bit LBA, 0 means 256', cdb: blockCdb(0x08, 0x1fffff, 0), lba: 0x1fffff, blocks: 256, fua: false },
    { name: 'READ (10) with DPO and FUA', cdb: blockCdb(0x28, 0x01020304, 9, 0x18), lba: 0x01020304, blocks: 9, fua: true },
    { name: 'WRITE (12) 32-bit length', cdb: blockCdb(0xaa, 7, 0x10000), lba: 7, blocks: 0x10000, fua: false },
    { name: 'WRITE (16) 64-bit LBA', cdb: blockCdb(0x8a, 0x1_0000_0000n, 3, 0x08), lba: 0x1_0000_0000, blocks: 3, fua: true },
    { name: 'COMPARE AND WRITE length in byte 13', cdb: blockCdb(0x89, 5, 2), lba: 5, blocks: 2, fua: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decodeBlockRange(c.cdb);
      assert.ok(E.isRight(d));
      assert.deepEqual([d.right.lba, d.right.blocks, d.right.fua], [c.lba, c.blocks, c.fua]);
    });
  }

  it('refuses a CDB shorter than its group code says', () => {
    const d = decodeBlockRange(Buffer.from([0x88, 0, 0, 0]));
    assert.ok(E.isLeft(d));
    assert.equal(d.left.byte, 0);
  });
});
