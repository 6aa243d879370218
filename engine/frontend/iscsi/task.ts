import type { ScsiCommandPdu } from './pdu/decode.ts';
import { NO_TAG } from './pdu/opcodes.ts';

/**
 * One SCSI task of a session: the command, the Data-Out it is still owed and the R2Ts that ask for
 * it (RFC 7143 §4.2.3, §11.8). Accounting only; the connection sends the R2Ts it plans.
 */

/** An R2T sent and not yet satisfied. */
export interface OpenR2t {
  readonly ttt: number;
  readonly offset: number;
  readonly length: number;
}

/** Where a task is: collecting data, waiting for its CmdSN turn, running in the unit, or done. */
export type TaskState = 'receiving' | 'ready' | 'running' | 'done';

/** A SCSI task and its write data bookkeeping. */
export class ScsiTask {
  readonly itt: number;
  readonly lun: number;
  readonly cdb: Buffer;
  readonly attr: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly expectedLength: number;
  readonly cmdSn: number;
  readonly immediate: boolean;
  /** The write buffer (EDTL bytes), filled by immediate, unsolicited and solicited data. */
  readonly dataOut: Buffer;
  state: TaskState = 'receiving';
  /** Delivered in CmdSN order (immediate commands are delivered at once). */
  delivered = false;
  aborted = false;
  readonly abort = new AbortController();
  /** Unsolicited data still expected (the command had F=0). */
  unsolicitedOpen: boolean;
  /** Next offset no R2T has asked for yet. */
  nextR2tOffset: number;
  r2tSn = 0;
  readonly openR2ts: OpenR2t[] = [];
  /** Settles when the unit answered (or at once if it never ran); TMF responses wait on it. */
  finished: Promise<void> | undefined;

  constructor(pdu: ScsiCommandPdu, unsolicitedEnd: number) {
    this.itt = pdu.itt;
    this.lun = pdu.lun;
    this.cdb = pdu.cdb;
    this.attr = pdu.attr;
    this.read = pdu.read;
    this.write = pdu.write;
    this.expectedLength = pdu.expectedLength;
    this.cmdSn = pdu.cmdSn;
    this.immediate = pdu.immediate;
    this.dataOut = pdu.write && pdu.expectedLength > 0 ? Buffer.allocUnsafe(pdu.expectedLength) : EMPTY;
    this.unsolicitedOpen = pdu.write && !pdu.final;
    this.nextR2tOffset = pdu.write ? Math.min(unsolicitedEnd, pdu.expectedLength) : pdu.expectedLength;
  }

  /** All data is in: no unsolicited data expected, nothing left to ask for, no R2T open. */
  get dataComplete(): boolean {
    return !this.unsolicitedOpen && this.nextR2tOffset >= this.expectedLength && this.openR2ts.length === 0;
  }

  /** Plans the next R2Ts within the limits; returns them (already recorded as open). */
  planR2ts(maxOutstanding: number, maxBurst: number, nextTtt: () => number): OpenR2t[] {
    const out: OpenR2t[] = [];
    while (this.openR2ts.length < maxOutstanding && this.nextR2tOffset < this.expectedLength) {
      const length = Math.min(maxBurst, this.expectedLength - this.nextR2tOffset);
      const r: OpenR2t = { ttt: nextTtt(), offset: this.nextR2tOffset, length };
      this.nextR2tOffset += length;
      this.openR2ts.push(r);
      out.push(r);
    }
    return out;
  }

  /** Closes the R2T a final Data-Out answered; false if `ttt` names no open R2T. */
  closeR2t(ttt: number): boolean {
    const i = this.openR2ts.findIndex((r) => r.ttt === ttt);
    if (i < 0) return false;
    this.openR2ts.splice(i, 1);
    return true;
  }

  /** Whether a Data-Out with this TTT belongs to this task. */
  acceptsTtt(ttt: number): boolean {
    return ttt === NO_TAG ? this.unsolicitedOpen : this.openR2ts.some((r) => r.ttt === ttt);
  }
}

const EMPTY = Buffer.alloc(0);
