import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mutual challenge–response authentication with the volume's shared secret (never sent):
 *
 *   server → Challenge(serverNonce)
 *   client → Auth(clientNonce ‖ HMAC-SHA256(secret, "shorthorn-replica/1 client" ‖ serverNonce ‖ clientNonce))
 *   server → AuthOk(HMAC-SHA256(secret, "shorthorn-replica/1 server" ‖ serverNonce ‖ clientNonce))
 *
 * Both nonces are fresh per connection, so neither side's proof can be replayed, and the distinct
 * labels stop one side's proof from being reflected back as the other's. The client checks the
 * server's proof, so it never talks to an impostor.
 */

/** Bytes of each nonce. */
export const NONCE_BYTES = 32;
/** Bytes of an HMAC-SHA256 proof. */
export const PROOF_BYTES = 32;

const CLIENT_LABEL = Buffer.from('shorthorn-replica/1 client', 'latin1');
const SERVER_LABEL = Buffer.from('shorthorn-replica/1 server', 'latin1');

/** A fresh random nonce. */
export function makeNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The client's proof of the secret. */
export function clientProof(secret: Buffer, serverNonce: Buffer, clientNonce: Buffer): Buffer {
  return createHmac('sha256', secret).update(CLIENT_LABEL).update(serverNonce).update(clientNonce).digest();
}

/** The server's proof of the secret. */
export function serverProof(secret: Buffer, serverNonce: Buffer, clientNonce: Buffer): Buffer {
  return createHmac('sha256', secret).update(SERVER_LABEL).update(serverNonce).update(clientNonce).digest();
}

/** Constant-time comparison of two proofs. */
export function isSameProof(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
