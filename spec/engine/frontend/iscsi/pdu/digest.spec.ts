import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate, readDigest, writeDigest } from '../../../../../engine/frontend/iscsi/pdu/digest.ts';

// Check values: RFC 3720 appendix B.4 (CRC32C examples) and the common "123456789" check value.
const cases: Array<{ name: string; input: Buffer; crc: number }> = [
  { name: '32 bytes of zeros', input: Buffer.alloc(32), crc: 0x8a9136aa },
  { name: '32 bytes of 0xff', input: Buffer.alloc(32, 0xff), crc: 0x62a8ab43 },
  { name: '32 incrementing bytes', input: Buffer.from(Array.from({ length: 32 }, (_, i) => i)), crc: 0x46dd794e },
  { name: '32 decrementing bytes', input: Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), crc: 0x113fdb5c },
  { name: 'ASCII 123456789', input: Buffer.from('123456789'), crc: 0xe3069283 },
  { name: 'empty', input: Buffer.alloc(0), crc: 0 },
];

describe('CRC32C (Castagnoli)', () => {
  for (const c of cases) {
    it(`computes the check value of ${c.name}`, () => {
      assert.equal(crc32c(c.input), c.crc);
    });
  }

  it('gives the same result when fed in pieces of any size', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) & 0xff));
    const whole = crc32c(data);
    for (const cut of [1, 3, 7, 8, 9, 64, 999]) {
      assert.equal(crc32cUpdate(crc32c(data, 0, cut), data, cut), whole, `cut at ${cut}`);
    }
  });

  it('puts the digest on the wire least significant byte first (RFC 3720 B.4: zeros give aa 36 91 8a)', () => {
    const b = Buffer.alloc(4);
    writeDigest(b, 0, crc32c(Buffer.alloc(32)));
    assert.equal(b.toString('hex'), 'aa36918a');
    assert.equal(readDigest(b, 0), 0x8a9136aa);
  });
});
