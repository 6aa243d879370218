/**
 * Login keys (RFC 7143 §13) and their result functions (§6.2): each key is declared once here
 * with who may send it, its range, our own value and how an offer and our value combine.
 */

/** How a key's outcome is computed (RFC 7143 §6.2). */
export type ResultFunction =
  | { readonly fn: 'declarative' } // no answer; the sender's value holds for its direction
  | { readonly fn: 'list'; readonly ours: readonly string[] } // first offered value we support
  | { readonly fn: 'min' | 'max'; readonly ours: number; readonly lo: number; readonly hi: number }
  | { readonly fn: 'or' | 'and'; readonly ours: boolean };

/** One key's declaration. */
export interface KeySpec {
  readonly result: ResultFunction;
  /** Who may send it. */
  readonly sender: 'initiator' | 'target' | 'both';
  /** Where it may appear. */
  readonly phase: 'security' | 'operational' | 'login' | 'full-feature';
  /** Irrelevant to discovery sessions (RFC 7143 §13: "Irrelevant to: Discovery session"). */
  readonly irrelevantInDiscovery?: boolean;
}

/** The largest data segment we accept (our declared MaxRecvDataSegmentLength). */
export const TARGET_MAX_RECV = 262144;

/** The standard keys (RFC 7143 §13, RFC 7144 §13 for iSCSIProtocolLevel and TaskReporting). */
export const KEYS: Readonly<Record<string, KeySpec>> = {
  AuthMethod: { result: { fn: 'list', ours: ['CHAP', 'None'] }, sender: 'both', phase: 'security' },
  HeaderDigest: { result: { fn: 'list', ours: ['CRC32C', 'None'] }, sender: 'both', phase: 'login' },
  DataDigest: { result: { fn: 'list', ours: ['CRC32C', 'None'] }, sender: 'both', phase: 'login' },
  MaxConnections: { result: { fn: 'min', ours: 1, lo: 1, hi: 65535 }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  SendTargets: { result: { fn: 'declarative' }, sender: 'initiator', phase: 'full-feature' },
  TargetName: { result: { fn: 'declarative' }, sender: 'initiator', phase: 'login' },
  InitiatorName: { result: { fn: 'declarative' }, sender: 'initiator', phase: 'login' },
  TargetAlias: { result: { fn: 'declarative' }, sender: 'target', phase: 'login' },
  InitiatorAlias: { result: { fn: 'declarative' }, sender: 'initiator', phase: 'login' },
  TargetAddress: { result: { fn: 'declarative' }, sender: 'target', phase: 'login' },
  TargetPortalGroupTag: { result: { fn: 'declarative' }, sender: 'target', phase: 'login' },
  InitialR2T: { result: { fn: 'or', ours: false }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  ImmediateData: { result: { fn: 'and', ours: true }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  MaxRecvDataSegmentLength: { result: { fn: 'declarative' }, sender: 'both', phase: 'login' },
  MaxBurstLength: { result: { fn: 'min', ours: 16776192, lo: 512, hi: 16777215 }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  FirstBurstLength: { result: { fn: 'min', ours: 16776192, lo: 512, hi: 16777215 }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  DefaultTime2Wait: { result: { fn: 'max', ours: 2, lo: 0, hi: 3600 }, sender: 'both', phase: 'login' },
  DefaultTime2Retain: { result: { fn: 'min', ours: 0, lo: 0, hi: 3600 }, sender: 'both', phase: 'login' },
  MaxOutstandingR2T: { result: { fn: 'min', ours: 16, lo: 1, hi: 65535 }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  DataPDUInOrder: { result: { fn: 'or', ours: true }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  DataSequenceInOrder: { result: { fn: 'or', ours: true }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
  ErrorRecoveryLevel: { result: { fn: 'min', ours: 0, lo: 0, hi: 2 }, sender: 'both', phase: 'login' },
  SessionType: { result: { fn: 'declarative' }, sender: 'initiator', phase: 'login' },
  // RFC 7143 §13.25 leaves markers out; older initiators still send them, and "No" is always safe.
  IFMarker: { result: { fn: 'and', ours: false }, sender: 'both', phase: 'login' },
  OFMarker: { result: { fn: 'and', ours: false }, sender: 'both', phase: 'login' },
  iSCSIProtocolLevel: { result: { fn: 'min', ours: 1, lo: 0, hi: 31 }, sender: 'both', phase: 'login' },
  TaskReporting: { result: { fn: 'list', ours: ['RFC3720'] }, sender: 'both', phase: 'login', irrelevantInDiscovery: true },
};

/** Keys of CHAP exchanges, handled by chap.ts (RFC 7143 §12.1.3). */
export const CHAP_KEYS: ReadonlySet<string> = new Set(['CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R']);
/** Marker interval keys: irrelevant once markers are off (RFC 3720 §A.3.2). */
export const MARKER_INTERVAL_KEYS: ReadonlySet<string> = new Set(['IFMarkInt', 'OFMarkInt']);

/** The outcome of one offered key. */
export type KeyOutcome =
  | { readonly _tag: 'Answer'; readonly answer: string; readonly value: string | number | boolean }
  | { readonly _tag: 'Declared'; readonly value: string | number }
  | { readonly _tag: 'Answer'; readonly answer: 'Reject' | 'Irrelevant' | 'NotUnderstood'; readonly value?: undefined };

function parseNumber(v: string): number | undefined {
  // RFC 7143 §6.1: decimal, or hex with 0x (numerical values up to 2^64-1; ours fit in 32 bits).
  if (/^[0-9]{1,10}$/.test(v)) return Number(v);
  if (/^0[xX][0-9a-fA-F]{1,8}$/.test(v)) return Number.parseInt(v.slice(2), 16);
  return undefined;
}

function parseBoolean(v: string): boolean | undefined {
  return v === 'Yes' ? true : v === 'No' ? false : undefined;
}

const REJECT = { _tag: 'Answer', answer: 'Reject' } as const;

/**
 * Applies the result function of `key` to an offer from the initiator. `discovery` marks a
 * Discovery session. Unknown keys are NotUnderstood (RFC 7143 §6.2).
 */
export function negotiateKey(key: string, offered: string, ctx: { discovery: boolean }): KeyOutcome {
  const spec = KEYS[key];
  if (spec === undefined) return MARKER_INTERVAL_KEYS.has(key) ? { _tag: 'Answer', answer: 'Irrelevant' } : { _tag: 'Answer', answer: 'NotUnderstood' };
  if (spec.sender === 'target' || spec.phase === 'full-feature') return REJECT;
  if (ctx.discovery && spec.irrelevantInDiscovery === true) return { _tag: 'Answer', answer: 'Irrelevant' };
  const r = spec.result;
  switch (r.fn) {
    case 'declarative': {
      if (key === 'MaxRecvDataSegmentLength') {
        const n = parseNumber(offered);
        // RFC 7143 §13.12: 512 to 2^24-1.
        return n === undefined || n < 512 || n > 16777215 ? REJECT : { _tag: 'Declared', value: n };
      }
      return { _tag: 'Declared', value: offered };
    }
    case 'list': {
      const picked = offered.split(',').find((v) => r.ours.includes(v));
      return picked === undefined ? REJECT : { _tag: 'Answer', answer: picked, value: picked };
    }
    case 'min':
    case 'max': {
      const n = parseNumber(offered);
      if (n === undefined || n < r.lo || n > r.hi) return REJECT;
      const v = r.fn === 'min' ? Math.min(n, r.ours) : Math.max(n, r.ours);
      return { _tag: 'Answer', answer: String(v), value: v };
    }
    case 'or':
    case 'and': {
      const b = parseBoolean(offered);
      if (b === undefined) return REJECT;
      const v = r.fn === 'or' ? b || r.ours : b && r.ours;
      return { _tag: 'Answer', answer: v ? 'Yes' : 'No', value: v };
    }
  }
}

/** Operational parameters of a session once login is over (RFC 7143 §13 defaults). */
export interface SessionParams {
  headerDigest: boolean;
  dataDigest: boolean;
  /** The initiator's MaxRecvDataSegmentLength: the most we may put in one PDU to it. */
  initiatorMaxRecv: number;
  /** Ours: the most the initiator may send in one PDU. */
  targetMaxRecv: number;
  maxBurstLength: number;
  firstBurstLength: number;
  initialR2T: boolean;
  immediateData: boolean;
  maxOutstandingR2T: number;
  dataPduInOrder: boolean;
  dataSequenceInOrder: boolean;
  errorRecoveryLevel: number;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  maxConnections: number;
}

/** The RFC defaults (RFC 7143 §13), before anything is negotiated. */
export function defaultSessionParams(): SessionParams {
  return {
    headerDigest: false,
    dataDigest: false,
    initiatorMaxRecv: 8192,
    targetMaxRecv: TARGET_MAX_RECV,
    maxBurstLength: 262144,
    firstBurstLength: 65536,
    initialR2T: true,
    immediateData: true,
    maxOutstandingR2T: 1,
    dataPduInOrder: true,
    dataSequenceInOrder: true,
    errorRecoveryLevel: 0,
    defaultTime2Wait: 2,
    defaultTime2Retain: 20,
    maxConnections: 1,
  };
}

/** Records a negotiated value into the session parameters. */
export function applyOutcome(p: SessionParams, key: string, value: string | number | boolean): void {
  switch (key) {
    case 'HeaderDigest': p.headerDigest = value === 'CRC32C'; break;
    case 'DataDigest': p.dataDigest = value === 'CRC32C'; break;
    case 'MaxRecvDataSegmentLength': p.initiatorMaxRecv = value as number; break;
    case 'MaxBurstLength': p.maxBurstLength = value as number; break;
    case 'FirstBurstLength': p.firstBurstLength = value as number; break;
    case 'InitialR2T': p.initialR2T = value as boolean; break;
    case 'ImmediateData': p.immediateData = value as boolean; break;
    case 'MaxOutstandingR2T': p.maxOutstandingR2T = value as number; break;
    case 'DataPDUInOrder': p.dataPduInOrder = value as boolean; break;
    case 'DataSequenceInOrder': p.dataSequenceInOrder = value as boolean; break;
    case 'ErrorRecoveryLevel': p.errorRecoveryLevel = value as number; break;
    case 'DefaultTime2Wait': p.defaultTime2Wait = value as number; break;
    case 'DefaultTime2Retain': p.defaultTime2Retain = value as number; break;
    case 'MaxConnections': p.maxConnections = value as number; break;
    default: break;
  }
}
