import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ChapExchange, chapResponse, decodeChapBinary, encodeChapBinary } from '../../../../../engine/frontend/iscsi/login/chap.ts';

const secrets = { user: 'alice', secret: 'alice-secret-12', mutualUser: 'target', mutualSecret: 'target-secret-12' };
// Deterministic "random": identifier 0x2a, challenge 16 bytes of 0x11.
const random = (n: number) => (n === 1 ? Buffer.from([0x2a]) : Buffer.alloc(n, 0x11));

function challenged(): ChapExchange {
  const x = new ChapExchange(secrets, random);
  const a = x.step(new Map([['CHAP_A', '7,5']]));
  assert.deepEqual(a, [['CHAP_A', '5'], ['CHAP_I', '42'], ['CHAP_C', '0x' + '11'.repeat(16)]]);
  return x;
}

describe('CHAP (RFC 1994, RFC 7143 §12.1.3)', () => {
  it('computes MD5(id ‖ secret ‖ challenge)', () => {
    const want = createHash('md5').update(Buffer.concat([Buffer.from([7]), Buffer.from('s3cret'), Buffer.from([1, 2, 3])])).digest();
    assert.deepEqual(chapResponse(7, 's3cret', Buffer.from([1, 2, 3])), want);
  });

  const binaries: Array<{ text: string; hex: string | undefined }> = [
    { text: '0x0a0B', hex: '0a0b' },
    { text: '0XABC', hex: '0abc' },
    { text: '0bAQID', hex: '010203' },
    { text: 'abcd', hex: undefined },
    { text: '0xZZ', hex: undefined },
  ];
  for (const b of binaries) {
    it(`decodes the binary value ${b.text}`, () => {
      assert.equal(decodeChapBinary(b.text)?.toString('hex'), b.hex);
    });
  }

  it('accepts the right one-way response', () => {
    const x = challenged();
    const r = chapResponse(42, secrets.secret, Buffer.alloc(16, 0x11));
    assert.deepEqual(x.step(new Map([['CHAP_N', 'alice'], ['CHAP_R', encodeChapBinary(r)]])), []);
    assert.equal(x.state, 'done');
  });

  const refusals: Array<{ name: string; keys: Array<[string, string]> }> = [
    { name: 'a wrong secret', keys: [['CHAP_N', 'alice'], ['CHAP_R', encodeChapBinary(chapResponse(42, 'wrong', Buffer.alloc(16, 0x11)))]] },
    { name: 'a wrong user', keys: [['CHAP_N', 'bob'], ['CHAP_R', encodeChapBinary(chapResponse(42, secrets.secret, Buffer.alloc(16, 0x11)))]] },
    { name: 'a missing CHAP_R', keys: [['CHAP_N', 'alice']] },
    { name: 'a response that is not binary', keys: [['CHAP_N', 'alice'], ['CHAP_R', 'hello']] },
    { name: 'our own challenge reflected for mutual CHAP', keys: [['CHAP_N', 'alice'], ['CHAP_R', encodeChapBinary(chapResponse(42, secrets.secret, Buffer.alloc(16, 0x11)))], ['CHAP_I', '42'], ['CHAP_C', '0x' + '11'.repeat(16)]] },
    { name: 'a mutual CHAP_I out of range', keys: [['CHAP_N', 'alice'], ['CHAP_R', encodeChapBinary(chapResponse(42, secrets.secret, Buffer.alloc(16, 0x11)))], ['CHAP_I', '300'], ['CHAP_C', '0x01']] },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name}`, () => {
      const x = challenged();
      x.step(new Map(r.keys));
      assert.equal(x.state, 'failed');
      assert.ok(x.reason.length > 0);
    });
  }

  it('refuses an initiator that offers no MD5', () => {
    const x = new ChapExchange(secrets, random);
    assert.deepEqual(x.step(new Map([['CHAP_A', '6,7']])), [['CHAP_A', 'Reject']]);
    assert.equal(x.state, 'failed');
  });

  it('answers a mutual challenge with the target credentials', () => {
    const x = challenged();
    const theirs = Buffer.from('initiator-challenge');
    const a = x.step(new Map([['CHAP_N', 'alice'], ['CHAP_R', encodeChapBinary(chapResponse(42, secrets.secret, Buffer.alloc(16, 0x11)))], ['CHAP_I', '9'], ['CHAP_C', encodeChapBinary(theirs)]]));
    assert.deepEqual(a, [['CHAP_N', 'target'], ['CHAP_R', encodeChapBinary(chapResponse(9, secrets.mutualSecret, theirs))]]);
    assert.equal(x.state, 'done');
  });

  it('refuses mutual CHAP when the target has no mutual secret', () => {
    const x = new ChapExchange({ user: 'alice', secret: 'alice-secret-12' }, random);
    x.step(new Map([['CHAP_A', '5']]));
    x.step(new Map([['CHAP_N', 'alice'], ['CHAP_R', encodeChapBinary(chapResponse(42, 'alice-secret-12', Buffer.alloc(16, 0x11)))], ['CHAP_I', '1'], ['CHAP_C', '0x0102']]));
    assert.equal(x.state, 'failed');
  });
});
