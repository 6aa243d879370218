import { connect, type Socket } from 'node:net';
import * as E from 'fp-ts/Either';
import { FrameDecoder } from '../../engine/frontend/iscsi/pdu/frame-decoder.ts';
import { NO_TAG, Opcode } from '../../engine/frontend/iscsi/pdu/opcodes.ts';
import { decodeTextPairs, type TextPair } from '../../engine/frontend/iscsi/pdu/text.ts';
import { chapResponse, decodeChapBinary, encodeChapBinary } from '../../engine/frontend/iscsi/login/chap.ts';
import * as pdu from './iscsi-pdu.ts';

/**
 * A small iSCSI initiator for tests: login (None or CHAP, optional mutual), SendTargets, READ/WRITE
 * (16) with immediate data, unsolicited Data-Out and R2T, NOP-Out, TMF and Logout. It answers the
 * target's NOP-In pings unless told not to.
 */
export interface InitiatorOptions {
  readonly targetName?: string;
  readonly discovery?: boolean;
  readonly initiatorName?: string;
  readonly isid?: string;
  readonly headerDigest?: boolean;
  readonly dataDigest?: boolean;
  readonly chap?: { user: string; secret: string; mutual?: { user: string; secret: string } };
  readonly immediateData?: boolean;
  readonly initialR2T?: boolean;
  readonly maxRecv?: number;
  readonly maxBurst?: number;
  readonly firstBurst?: number;
  readonly answerPings?: boolean;
}

/** What a login ended with. */
export interface LoginOutcome {
  readonly status: number;
  readonly pairs: TextPair[];
  readonly tsih: number;
}

type Waiter = (p: pdu.TargetPdu) => boolean;

/** One connection of the test initiator. */
export class TestInitiator {
  readonly decoder = new FrameDecoder(16 * 1024 * 1024);
  /** PDUs nobody waited for (pings, rejects, async messages). */
  readonly unsolicited: pdu.TargetPdu[] = [];
  cmdSn = 1;
  expStatSn = 0;
  private itt = 0x100;
  private digests: pdu.Digests = {};
  private readonly waiters = new Set<Waiter>();
  private readonly closedP: Promise<void>;
  closed = false;
  negotiated = new Map<string, string>();
  answerPings = true;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('error', () => {});
    this.closedP = new Promise((resolve) => socket.once('close', () => {
      this.closed = true;
      resolve();
    }));
  }

  /** Opens a TCP connection to `portal` (host:port). */
  static async connect(portal: string): Promise<TestInitiator> {
    const i = portal.lastIndexOf(':');
    const s = connect({ host: portal.slice(0, i), port: Number(portal.slice(i + 1)) });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.setNoDelay(true);
    return new TestInitiator(s);
  }

  /** Connects and logs in; throws unless the login succeeds. */
  static async open(portal: string, opts: InitiatorOptions): Promise<TestInitiator> {
    const ini = await TestInitiator.connect(portal);
    const r = await ini.login(opts);
    if (r.status !== 0) throw new Error(`login failed with status 0x${r.status.toString(16)}`);
    return ini;
  }

  /** Resolves when the target closed the connection. */
  whenClosed(): Promise<void> {
    return this.closedP;
  }

  private onData(c: Buffer): void {
    this.decoder.push(c);
    for (;;) {
      const r = this.decoder.next();
      if (r === undefined) return;
      if (r._tag === 'Error') {
        this.socket.destroy();
        return;
      }
      const p = pdu.readTargetPdu(r.frame.bhs, r.frame.data);
      if (hasStatSn(p)) this.expStatSn = (p.statSn + 1) >>> 0;
      if (p.opcode === Opcode.NopIn && p.itt === NO_TAG && this.answerPings) {
        const ttt = p.bhs.readUInt32BE(20);
        this.send(pdu.nopOut({ itt: NO_TAG, ttt, cmdSn: this.cmdSn, immediate: true, expStatSn: this.expStatSn }, this.digests));
        continue;
      }
      let taken = false;
      for (const w of this.waiters) {
        if (w(p)) {
          taken = true;
          break;
        }
      }
      if (!taken) this.unsolicited.push(p);
    }
  }

  /** Writes raw bytes. */
  send(b: Buffer): void {
    this.socket.write(b);
  }

  /** A fresh Initiator Task Tag. */
  nextItt(): number {
    return this.itt++;
  }

  /** Waits for the first PDU `match` accepts (consumed) — or rejects when the connection closes. */
  waitFor(match: (p: pdu.TargetPdu) => boolean, collect?: (p: pdu.TargetPdu) => boolean): Promise<pdu.TargetPdu> {
    return new Promise((resolve, reject) => {
      const w: Waiter = (p) => {
        if (collect !== undefined && collect(p)) return true;
        if (!match(p)) return false;
        this.waiters.delete(w);
        resolve(p);
        return true;
      };
      this.waiters.add(w);
      void this.closedP.then(() => {
        if (this.waiters.delete(w)) reject(new Error('connection closed'));
      });
    });
  }

  /** Runs a full login: security (None or CHAP) then operational, ending in full feature phase. */
  async login(o: InitiatorOptions): Promise<LoginOutcome> {
    const base: TextPair[] = [
      ['InitiatorName', o.initiatorName ?? 'iqn.2026-11.io.shorthorn:test-initiator'],
      ['SessionType', o.discovery === true ? 'Discovery' : 'Normal'],
    ];
    if (o.discovery !== true) base.push(['TargetName', o.targetName ?? '']);
    const isid = o.isid ?? '400001370000';
    const itt = this.nextItt();
    const step = async (f: pdu.LoginFields): Promise<{ p: pdu.TargetPdu; pairs: TextPair[] }> => {
      const wait = this.waitFor((p) => p.opcode === Opcode.LoginResponse);
      this.send(pdu.login({ ...f, isid, itt, cmdSn: this.cmdSn, expStatSn: this.expStatSn }));
      const p = await wait;
      const d = decodeTextPairs(p.data);
      return { p, pairs: E.isRight(d) ? d.right : [] };
    };
    const statusOf = (p: pdu.TargetPdu) => p.bhs.readUInt16BE(36);
    let r = await step({ csg: 0, nsg: 1, transit: o.chap === undefined, pairs: [...base, ['AuthMethod', o.chap === undefined ? 'None' : 'CHAP,None']] });
    if (statusOf(r.p) !== 0) return { status: statusOf(r.p), pairs: r.pairs, tsih: 0 };
    if (o.chap !== undefined) {
      r = await step({ csg: 0, nsg: 1, transit: false, pairs: [['CHAP_A', '5']] });
      if (statusOf(r.p) !== 0) return { status: statusOf(r.p), pairs: r.pairs, tsih: 0 };
      const m = new Map(r.pairs);
      const id = Number(m.get('CHAP_I'));
      const challenge = decodeChapBinary(m.get('CHAP_C') ?? '') ?? Buffer.alloc(0);
      const answer: TextPair[] = [['CHAP_N', o.chap.user], ['CHAP_R', encodeChapBinary(chapResponse(id, o.chap.secret, challenge))]];
      const mine = Buffer.from('0123456789abcdef0123');
      if (o.chap.mutual !== undefined) answer.push(['CHAP_I', '77'], ['CHAP_C', encodeChapBinary(mine)]);
      r = await step({ csg: 0, nsg: 1, transit: true, pairs: answer });
      if (statusOf(r.p) !== 0) return { status: statusOf(r.p), pairs: r.pairs, tsih: 0 };
      if (o.chap.mutual !== undefined) {
        const got = decodeChapBinary(new Map(r.pairs).get('CHAP_R') ?? '');
        if (got === undefined || !got.equals(chapResponse(77, o.chap.mutual.secret, mine))) throw new Error('target failed mutual CHAP');
      }
    }
    const ops: TextPair[] = [
      ['HeaderDigest', o.headerDigest === true ? 'CRC32C' : 'None'],
      ['DataDigest', o.dataDigest === true ? 'CRC32C' : 'None'],
      ['MaxRecvDataSegmentLength', String(o.maxRecv ?? 65536)],
      ...(o.discovery === true
        ? []
        : ([
            ['ImmediateData', o.immediateData === false ? 'No' : 'Yes'],
            ['InitialR2T', o.initialR2T === true ? 'Yes' : 'No'],
            ['MaxBurstLength', String(o.maxBurst ?? 262144)],
            ['FirstBurstLength', String(o.firstBurst ?? 65536)],
            ['MaxOutstandingR2T', '4'],
            ['ErrorRecoveryLevel', '0'],
          ] as TextPair[])),
    ];
    r = await step({ csg: 1, nsg: 3, transit: true, pairs: ops });
    if (statusOf(r.p) !== 0) return { status: statusOf(r.p), pairs: r.pairs, tsih: 0 };
    for (const [k, v] of r.pairs) this.negotiated.set(k, v);
    this.cmdSn = r.p.expCmdSn;
    this.digests = { header: this.negotiated.get('HeaderDigest') === 'CRC32C', data: this.negotiated.get('DataDigest') === 'CRC32C' };
    this.decoder.headerDigest = this.digests.header === true;
    this.decoder.dataDigest = this.digests.data === true;
    this.answerPings = o.answerPings !== false;
    return { status: 0, pairs: r.pairs, tsih: r.p.bhs.readUInt16BE(14) };
  }

  /** The digests negotiated (for hand-built PDUs). */
  get pduDigests(): pdu.Digests {
    return this.digests;
  }

  private num(key: string, dflt: number): number {
    const v = this.negotiated.get(key);
    return v === undefined || !/^\d+$/.test(v) ? dflt : Number(v);
  }

  /** READ (16): resolves with the data and the SCSI status. */
  async read(lba: number, blocks: number, blockSize = 512): Promise<{ status: number; data: Buffer }> {
    const itt = this.nextItt();
    const len = blocks * blockSize;
    const data = Buffer.alloc(len);
    let status = -1;
    const done = this.waitFor(
      (p) => p.itt === itt && (p.opcode === Opcode.ScsiResponse || (p.opcode === Opcode.DataIn && (p.flags & 0x01) !== 0)),
      (p) => {
        if (p.itt !== itt || p.opcode !== Opcode.DataIn) return false;
        p.data.copy(data, p.bhs.readUInt32BE(40));
        if ((p.flags & 0x01) !== 0) return false;
        return true;
      },
    );
    this.send(pdu.scsiCommand({ itt, cmdSn: this.cmdSn++, expStatSn: this.expStatSn, cdb: pdu.rw16('read', lba, blocks), read: true, expectedLength: len }, this.digests));
    const last = await done;
    if (last.opcode === Opcode.DataIn) {
      last.data.copy(data, last.bhs.readUInt32BE(40));
      status = last.bhs[3] as number;
    } else status = last.bhs[3] as number;
    return { status, data };
  }

  /** WRITE (16) with immediate data, unsolicited Data-Out and R2T as negotiated; resolves with the status. */
  async write(lba: number, data: Buffer, blockSize = 512): Promise<number> {
    const itt = this.nextItt();
    const immediateOk = this.negotiated.get('ImmediateData') === 'Yes';
    const initialR2T = this.negotiated.get('InitialR2T') !== 'No';
    const targetMax = this.num('MaxRecvDataSegmentLength', 8192);
    const firstBurst = this.num('FirstBurstLength', 65536);
    const imm = immediateOk ? Math.min(data.length, firstBurst, targetMax) : 0;
    const unsolicitedEnd = initialR2T ? imm : Math.min(data.length, firstBurst);
    const done = this.waitFor(
      (p) => p.itt === itt && p.opcode === Opcode.ScsiResponse,
      (p) => {
        if (p.itt !== itt || p.opcode !== Opcode.R2T) return false;
        const ttt = p.bhs.readUInt32BE(20);
        const off = p.bhs.readUInt32BE(40);
        const want = p.bhs.readUInt32BE(44);
        this.sendData(itt, ttt, data, off, off + want, targetMax);
        return true;
      },
    );
    this.send(pdu.scsiCommand({ itt, cmdSn: this.cmdSn++, expStatSn: this.expStatSn, cdb: pdu.rw16('write', lba, data.length / blockSize), write: true, final: unsolicitedEnd <= imm, expectedLength: data.length, data: data.subarray(0, imm) }, this.digests));
    if (unsolicitedEnd > imm) this.sendData(itt, NO_TAG, data, imm, unsolicitedEnd, targetMax);
    const r = await done;
    return r.bhs[3] as number;
  }

  private sendData(itt: number, ttt: number, data: Buffer, from: number, to: number, seg: number): void {
    let sn = 0;
    for (let off = from; off < to; off += seg) {
      const end = Math.min(to, off + seg);
      this.send(pdu.dataOut({ itt, ttt, final: end >= to, dataSn: sn++, offset: off, expStatSn: this.expStatSn, data: data.subarray(off, end) }, this.digests));
    }
  }

  /** NOP-Out ping; resolves with the echoed data. */
  async ping(data: Buffer = Buffer.alloc(0)): Promise<Buffer> {
    const itt = this.nextItt();
    const wait = this.waitFor((p) => p.itt === itt && p.opcode === Opcode.NopIn);
    this.send(pdu.nopOut({ itt, cmdSn: this.cmdSn++, expStatSn: this.expStatSn, data }, this.digests));
    return (await wait).data;
  }

  /** Text Request SendTargets=All; resolves with the answered pairs. */
  async sendTargets(value = 'All'): Promise<TextPair[]> {
    const itt = this.nextItt();
    const wait = this.waitFor((p) => p.itt === itt && p.opcode === Opcode.TextResponse);
    this.send(pdu.text({ itt, cmdSn: this.cmdSn++, expStatSn: this.expStatSn, pairs: [['SendTargets', value]] }, this.digests));
    const d = decodeTextPairs((await wait).data);
    return E.isRight(d) ? d.right : [];
  }

  /** Task management; resolves with the response code. */
  async taskManagement(fn: number, rtt?: number, refCmdSn?: number): Promise<number> {
    const itt = this.nextItt();
    const wait = this.waitFor((p) => p.itt === itt && p.opcode === Opcode.TaskMgmtResponse);
    this.send(pdu.tmf({ itt, cmdSn: this.cmdSn, fn, rtt, refCmdSn, expStatSn: this.expStatSn }, this.digests));
    return (await wait).bhs[2] as number;
  }

  /** Logout (close session); resolves with the response code once the target closed. */
  async logout(reason = 0): Promise<number> {
    const itt = this.nextItt();
    const wait = this.waitFor((p) => p.itt === itt && p.opcode === Opcode.LogoutResponse);
    this.send(pdu.logout({ itt, cmdSn: this.cmdSn++, reason, expStatSn: this.expStatSn }, this.digests));
    const r = (await wait).bhs[2] as number;
    if (r === 0) await this.closedP;
    return r;
  }

  /** Drops the connection. */
  destroy(): void {
    this.socket.destroy();
  }
}

function hasStatSn(p: pdu.TargetPdu): boolean {
  if (p.opcode === Opcode.DataIn) return (p.flags & 0x01) !== 0;
  if (p.opcode === Opcode.R2T) return false;
  if (p.opcode === Opcode.NopIn) return p.itt !== NO_TAG;
  return true;
}
