import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TextPair } from '../pdu/text.ts';

/**
 * CHAP authentication in the iSCSI security stage (RFC 7143 §12.1.3, RFC 1994), MD5 only
 * (CHAP_A=5). One-way: the initiator proves it knows `secret`. Mutual: the initiator also sends a
 * challenge (CHAP_I/CHAP_C) and the target answers with CHAP_N/CHAP_R computed from `mutualSecret`.
 */

/** CHAP_A value for MD5 (RFC 1994 / IANA PPP authentication algorithms). */
export const CHAP_MD5 = '5';
const CHALLENGE_BYTES = 16;

/** The credentials the target checks (and, with mutual, proves). */
export interface ChapSecrets {
  readonly user: string;
  readonly secret: string;
  readonly mutualUser?: string;
  readonly mutualSecret?: string;
}

/** Where an exchange stands; `failed` carries the reason for the log. */
export type ChapState = 'wait-algorithm' | 'wait-response' | 'done' | 'failed';

/** The CHAP response: MD5(identifier byte ‖ secret ‖ challenge) (RFC 1994 §4.1). */
export function chapResponse(id: number, secret: string, challenge: Buffer): Buffer {
  return createHash('md5').update(Buffer.from([id & 0xff])).update(secret, 'utf8').update(challenge).digest();
}

/** Decodes a CHAP binary value: `0x`/`0X` hex or `0b`/`0B` base64 (RFC 7143 §6.1). */
export function decodeChapBinary(v: string): Buffer | undefined {
  if (/^0[xX]([0-9a-fA-F]{2})+$/.test(v)) return Buffer.from(v.slice(2), 'hex');
  if (/^0[xX][0-9a-fA-F]+$/.test(v)) return Buffer.from('0' + v.slice(2), 'hex');
  if (/^0[bB][A-Za-z0-9+/]+=*$/.test(v)) return Buffer.from(v.slice(2), 'base64');
  return undefined;
}

/** Encodes binary as `0x…` hex. */
export function encodeChapBinary(b: Buffer): string {
  return '0x' + b.toString('hex');
}

/** One target-side CHAP exchange. Not reentrant: one per connection's login. */
export class ChapExchange {
  state: ChapState = 'wait-algorithm';
  reason = '';
  private id = 0;
  private challenge: Buffer = Buffer.alloc(0);

  constructor(
    private readonly secrets: ChapSecrets,
    private readonly random: (n: number) => Buffer = randomBytes,
  ) {}

  /** Handles the CHAP keys of one Login Request; answers the keys to send back. */
  step(keys: ReadonlyMap<string, string>): TextPair[] {
    if (this.state === 'wait-algorithm') {
      const a = keys.get('CHAP_A');
      if (a === undefined) return [];
      if (!a.split(',').includes(CHAP_MD5)) return this.fail('initiator offers no CHAP algorithm we support (MD5 = 5)', [['CHAP_A', 'Reject']]);
      this.id = (this.random(1)[0] as number) & 0xff;
      this.challenge = this.random(CHALLENGE_BYTES);
      this.state = 'wait-response';
      return [['CHAP_A', CHAP_MD5], ['CHAP_I', String(this.id)], ['CHAP_C', encodeChapBinary(this.challenge)]];
    }
    if (this.state !== 'wait-response') return [];
    const n = keys.get('CHAP_N');
    const r = keys.get('CHAP_R');
    if (n === undefined || r === undefined) return this.fail('CHAP_N or CHAP_R missing');
    const got = decodeChapBinary(r);
    const want = chapResponse(this.id, this.secrets.secret, this.challenge);
    if (n !== this.secrets.user || got === undefined || got.length !== want.length || !timingSafeEqual(got, want)) {
      return this.fail('wrong CHAP user or secret');
    }
    const mi = keys.get('CHAP_I');
    const mc = keys.get('CHAP_C');
    if (mi === undefined && mc === undefined) {
      this.state = 'done';
      return [];
    }
    // Mutual CHAP: the initiator challenges us (RFC 7143 §12.1.3).
    if (mi === undefined || mc === undefined || !/^\d{1,3}$/.test(mi) || Number(mi) > 255) return this.fail('mutual CHAP needs both CHAP_I (0-255) and CHAP_C');
    const theirs = decodeChapBinary(mc);
    if (theirs === undefined || theirs.length === 0) return this.fail('CHAP_C is not a binary value');
    // RFC 7143 §12.1.3: a target must refuse its own challenge reflected back.
    if (theirs.equals(this.challenge)) return this.fail('initiator reflected the target challenge');
    if (this.secrets.mutualUser === undefined || this.secrets.mutualSecret === undefined) return this.fail('initiator asks for mutual CHAP and the target has no mutual secret');
    this.state = 'done';
    return [['CHAP_N', this.secrets.mutualUser], ['CHAP_R', encodeChapBinary(chapResponse(Number(mi), this.secrets.mutualSecret, theirs))]];
  }

  private fail(reason: string, answer: TextPair[] = []): TextPair[] {
    this.state = 'failed';
    this.reason = reason;
    return answer;
  }
}
