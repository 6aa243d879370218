import * as E from 'fp-ts/Either';
import { LoginStatus, Stage } from '../pdu/opcodes.ts';
import type { LoginRequestPdu } from '../pdu/decode.ts';
import { decodeTextPairs, type TextPair } from '../pdu/text.ts';
import { ChapExchange, type ChapSecrets } from './chap.ts';
import { CHAP_KEYS, KEYS, TARGET_MAX_RECV, applyOutcome, defaultSessionParams, negotiateKey, type SessionParams } from './params.ts';

/**
 * The target side of one connection's login phase (RFC 7143 §6.3, §11.12–11.13): stage checks,
 * the first request's declarations, security (None or CHAP) and operational negotiation. Pure:
 * the connection feeds it decoded requests and sends what it answers.
 */

/** What the target is and how it authenticates. */
export interface LoginTarget {
  readonly targetName: string;
  readonly portalGroupTag: number;
  readonly chap?: ChapSecrets;
  readonly random?: (n: number) => Buffer;
}

/** One Login Response to send. `done` means the connection enters full feature phase after it. */
export interface LoginAnswer {
  readonly status: LoginStatus;
  readonly transit: boolean;
  readonly csg: number;
  readonly nsg: number;
  readonly pairs: TextPair[];
  readonly done: boolean;
  /** Why the login failed, for the log. */
  readonly reason?: string;
}

/**
 * The most login text one request may carry once its continued pieces (C bit) are joined. RFC 7143
 * sets no bound; a login's keys take a few hundred bytes, and without one an unauthenticated peer
 * could make the target buffer C=1 Login Requests until memory ran out.
 */
export const MAX_LOGIN_TEXT_BYTES = 64 * 1024;

/** The session type the initiator declared (RFC 7143 §13.21). */
export type SessionType = 'Normal' | 'Discovery';

/** Login state of one connection. */
export class LoginNegotiation {
  readonly params: SessionParams = defaultSessionParams();
  sessionType: SessionType = 'Normal';
  initiatorName = '';
  initiatorAlias = '';
  /** The stage the next request must be in; undefined before the first request. */
  stage: number | undefined;
  authenticated = false;
  private authMethod: 'None' | 'CHAP' | undefined;
  private chap: ChapExchange | undefined;
  private readonly seen = new Set<string>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private declaredMaxRecv = false;

  constructor(private readonly target: LoginTarget) {}

  /** Handles one Login Request and its data segment (copied if retained). */
  step(req: LoginRequestPdu, data: Buffer): LoginAnswer {
    const first = this.stage === undefined;
    const csg = req.csg;
    if (this.pendingBytes + data.length > MAX_LOGIN_TEXT_BYTES) {
      this.pending = [];
      this.pendingBytes = 0;
      return this.fail(LoginStatus.InitiatorError, csg, `login text longer than ${MAX_LOGIN_TEXT_BYTES} bytes`);
    }
    if (req.cont) {
      // RFC 7143 §11.12.2: C=1, more text follows; answer with an empty response and keep it.
      this.pending.push(Buffer.from(data));
      this.pendingBytes += data.length;
      return { status: LoginStatus.Success, transit: false, csg, nsg: csg, pairs: [], done: false };
    }
    const whole = this.pending.length > 0 ? Buffer.concat([...this.pending, data]) : data;
    this.pending = [];
    this.pendingBytes = 0;
    if (first && (req.versionMin > 0 || req.versionMax < req.versionMin)) return this.fail(LoginStatus.UnsupportedVersion, csg, `version range ${req.versionMin}..${req.versionMax} excludes 0`);
    if (csg !== Stage.Security && csg !== Stage.Operational) return this.fail(LoginStatus.InitiatorError, csg, `CSG ${csg} is not a login stage`);
    if (!first && csg !== this.stage) return this.fail(LoginStatus.InitiatorError, csg, `CSG ${csg} while in stage ${this.stage}`);
    if (req.transit && (req.nsg <= csg || req.nsg === 2)) return this.fail(LoginStatus.InitiatorError, csg, `cannot move from stage ${csg} to ${req.nsg}`);
    this.stage = csg;
    const decoded = decodeTextPairs(whole);
    if (E.isLeft(decoded)) return this.fail(LoginStatus.InitiatorError, csg, decoded.left);
    const keys = new Map<string, string>();
    for (const [k, v] of decoded.right) {
      // RFC 7143 §6.2: a key negotiated twice is a protocol error (CHAP keys repeat by design).
      if (keys.has(k) || (this.seen.has(k) && !CHAP_KEYS.has(k))) return this.fail(LoginStatus.InitiatorError, csg, `key ${k} sent twice`);
      keys.set(k, v);
      this.seen.add(k);
    }
    const answer: TextPair[] = [];
    if (first) {
      const bad = this.declare(keys, answer);
      if (bad !== undefined) return bad;
    }
    let chapDone = this.authMethod === 'None' || this.chap?.state === 'done';
    if (csg === Stage.Security) {
      const bad = this.security(keys, answer);
      if (bad !== undefined) return bad;
      chapDone = this.authMethod === 'None' || this.chap?.state === 'done';
    } else {
      for (const k of keys.keys()) {
        if (k === 'AuthMethod' || CHAP_KEYS.has(k)) return this.fail(LoginStatus.InitiatorError, csg, `${k} outside the security stage`);
      }
      if (this.needsChap() && !this.authenticated) return this.fail(LoginStatus.AuthenticationFailure, csg, 'CHAP is required and the initiator skipped the security stage');
    }
    for (const [k, v] of keys) {
      if (k === 'AuthMethod' || CHAP_KEYS.has(k) || k === 'InitiatorName' || k === 'TargetName' || k === 'SessionType' || k === 'InitiatorAlias') continue;
      const o = negotiateKey(k, v, { discovery: this.sessionType === 'Discovery' });
      if (o._tag === 'Declared') {
        if (k === 'MaxRecvDataSegmentLength' && typeof o.value === 'number') applyOutcome(this.params, k, o.value);
        continue;
      }
      answer.push([k, o.answer]);
      if (o.value !== undefined) applyOutcome(this.params, k, o.value);
    }
    if (csg === Stage.Security && !chapDone) {
      return { status: LoginStatus.Success, transit: false, csg, nsg: csg, pairs: answer, done: false };
    }
    if (csg === Stage.Security) this.authenticated = true;
    const transit = req.transit;
    const done = transit && req.nsg === Stage.FullFeature;
    if ((keys.has('MaxRecvDataSegmentLength') || done) && !this.declaredMaxRecv) {
      this.declaredMaxRecv = true;
      answer.push(['MaxRecvDataSegmentLength', String(TARGET_MAX_RECV)]);
    }
    if (done) {
      this.params.targetMaxRecv = TARGET_MAX_RECV;
      this.params.firstBurstLength = Math.min(this.params.firstBurstLength, this.params.maxBurstLength);
    }
    if (transit) this.stage = req.nsg;
    return { status: LoginStatus.Success, transit, csg, nsg: transit ? req.nsg : csg, pairs: answer, done };
  }

  private needsChap(): boolean {
    return this.target.chap !== undefined && this.sessionType === 'Normal';
  }

  /** The first request's declarations (RFC 7143 §6.3: InitiatorName, SessionType, TargetName). */
  private declare(keys: Map<string, string>, answer: TextPair[]): LoginAnswer | undefined {
    const csg = this.stage ?? 0;
    const name = keys.get('InitiatorName');
    if (name === undefined || name === '') return this.fail(LoginStatus.MissingParameter, csg, 'InitiatorName missing from the first Login Request');
    this.initiatorName = name;
    this.initiatorAlias = keys.get('InitiatorAlias') ?? '';
    const type = keys.get('SessionType') ?? 'Normal';
    if (type !== 'Normal' && type !== 'Discovery') return this.fail(LoginStatus.SessionTypeNotSupported, csg, `SessionType ${type}`);
    this.sessionType = type;
    if (type === 'Normal') {
      const t = keys.get('TargetName');
      if (t === undefined) return this.fail(LoginStatus.MissingParameter, csg, 'TargetName missing from a Normal session login');
      if (t !== this.target.targetName) return this.fail(LoginStatus.NotFound, csg, `no target named ${t}`);
      // RFC 7143 §13.9: the target returns TargetPortalGroupTag in the first Login Response of a Normal session.
      answer.push(['TargetPortalGroupTag', String(this.target.portalGroupTag)]);
    }
    return undefined;
  }

  private security(keys: Map<string, string>, answer: TextPair[]): LoginAnswer | undefined {
    const csg = Stage.Security;
    const offered = keys.get('AuthMethod');
    if (offered !== undefined) {
      if (this.authMethod !== undefined) return this.fail(LoginStatus.InitiatorError, csg, 'AuthMethod offered twice');
      const list = offered.split(',');
      let pick: 'None' | 'CHAP' | undefined;
      if (this.needsChap()) pick = list.includes('CHAP') ? 'CHAP' : undefined;
      else if (this.target.chap !== undefined) pick = list.includes('CHAP') ? 'CHAP' : list.includes('None') ? 'None' : undefined;
      else pick = list.includes('None') ? 'None' : undefined;
      if (pick === undefined) {
        answer.push(['AuthMethod', 'Reject']);
        return this.fail(LoginStatus.AuthenticationFailure, csg, `no acceptable AuthMethod in "${offered}"`, answer);
      }
      this.authMethod = pick;
      answer.push(['AuthMethod', pick]);
      if (pick === 'CHAP' && this.target.chap !== undefined) this.chap = new ChapExchange(this.target.chap, this.target.random);
    }
    if (this.authMethod === undefined) {
      if (this.needsChap()) return this.fail(LoginStatus.AuthenticationFailure, csg, 'CHAP is required and no AuthMethod was offered');
      this.authMethod = 'None';
    }
    const chapKeys = new Map([...keys].filter(([k]) => CHAP_KEYS.has(k)));
    if (this.chap === undefined) {
      if (chapKeys.size > 0) return this.fail(LoginStatus.InitiatorError, csg, 'CHAP keys without AuthMethod=CHAP');
      return undefined;
    }
    if (chapKeys.size > 0 || offered === undefined) answer.push(...this.chap.step(chapKeys));
    if (this.chap.state === 'failed') return this.fail(LoginStatus.AuthenticationFailure, csg, this.chap.reason, answer);
    return undefined;
  }

  private fail(status: LoginStatus, csg: number, reason: string, pairs: TextPair[] = []): LoginAnswer {
    return { status, transit: false, csg, nsg: csg, pairs, done: false, reason };
  }
}
