import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientProof, isSameProof, makeNonce, serverProof, NONCE_BYTES } from '../../../engine/wire/auth.ts';

const secret = Buffer.from('the-volume-secret-0123456789');
const sn = makeNonce();
const cn = makeNonce();

describe('challenge–response proofs', () => {
  const cases = [
    { name: 'the same inputs give the same client proof', a: () => clientProof(secret, sn, cn), b: () => clientProof(secret, sn, cn), same: true },
    { name: 'a client proof cannot be reflected as the server proof', a: () => clientProof(secret, sn, cn), b: () => serverProof(secret, sn, cn), same: false },
    { name: 'another secret gives another proof', a: () => clientProof(secret, sn, cn), b: () => clientProof(Buffer.from('another-secret-0123456789'), sn, cn), same: false },
    { name: 'another server nonce gives another proof (no replay)', a: () => clientProof(secret, sn, cn), b: () => clientProof(secret, makeNonce(), cn), same: false },
    { name: 'swapped nonces give another proof', a: () => clientProof(secret, sn, cn), b: () => clientProof(secret, cn, sn), same: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(isSameProof(c.a(), c.b()), c.same);
    });
  }

  it('makes fresh 32-byte nonces and compares proofs of other lengths as different', () => {
    assert.equal(makeNonce().length, NONCE_BYTES);
    assert.ok(!makeNonce().equals(makeNonce()));
    assert.equal(isSameProof(Buffer.alloc(32), Buffer.alloc(31)), false);
  });
});
