import type { ScsiCommandPdu } from './pdu/decode.ts';
import { NO_TAG } from './pdu/opcodes.ts';

/**
 * One SCSI task of a session: the command, the Data-Out it is still owed and the R2Ts that ask for
 * it (RFC 7143 §4.2.3, §11.8). Accounting only; the connection sends the R2Ts it plans.
 */

/** An R2T sent and not yet satisfied, with the in-order position of its Data-Out sequence. */
export interface OpenR2t {
  readonly ttt: number;
  readonly offset: number;
  readonly length: number;
  /** Next BufferOffset and DataSN expected (DataPDUInOrder=Yes, RFC 7143 §13.17). */
  nextOffset: number;
  nextDataSn: number;
}

/** Why a Data-Out does not fit its sequence. */
export type DataOutFault = 'unknown-ttt' | 'bad-datasn' | 'bad-offset' | 'short-sequence';

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
  /** Where the task is in the logical unit's task set (task-set.ts); it runs only once enabled. */
  taskSetState: 'out' | 'waiting' | 'enabled' = 'out';
  aborted = false;
  /** Bytes of the session's write budget this task holds (see scsi-io.ts WRITE_BUDGET_BYTES). */
  heldBytes = 0;
  /** Created on first use: most tasks never look at their signal, and an AbortController per I/O shows in profiles. */
  private controller: AbortController | undefined;
  /** Unsolicited data still expected (the command had F=0). */
  unsolicitedOpen: boolean;
  /** Next offset no R2T has asked for yet. */
  nextR2tOffset: number;
  r2tSn = 0;
  readonly openR2ts: OpenR2t[] = [];
  /** The unsolicited sequence: next offset and DataSN expected, and where it must end. */
  private unsolicited: { nextOffset: number; nextDataSn: number; end: number };
  /** Regions the unsolicited sequence left out, to ask for with R2Ts first. */
  private readonly holes: Array<{ offset: number; length: number }> = [];
  /** Settles when the unit answered (or at once if it never ran); TMF responses wait on it. */
  finished: Promise<void> | undefined;

  constructor(pdu: ScsiCommandPdu, unsolicitedEnd: number, alloc: (size: number) => Buffer = Buffer.allocUnsafe) {
    this.itt = pdu.itt;
    this.lun = pdu.lun;
    this.cdb = pdu.cdb;
    this.attr = pdu.attr;
    this.read = pdu.read;
    this.write = pdu.write;
    this.expectedLength = pdu.expectedLength;
    this.cmdSn = pdu.cmdSn;
    this.immediate = pdu.immediate;
    this.dataOut = pdu.write && pdu.expectedLength > 0 ? alloc(pdu.expectedLength) : EMPTY;
    this.unsolicitedOpen = pdu.write && !pdu.final;
    this.nextR2tOffset = pdu.write ? Math.min(unsolicitedEnd, pdu.expectedLength) : pdu.expectedLength;
    this.unsolicited = { nextOffset: 0, nextDataSn: 0, end: Math.min(unsolicitedEnd, pdu.expectedLength) };
  }

  /** Sets where unsolicited Data-Out starts (after the immediate data). */
  setImmediateLength(n: number): void {
    this.unsolicited.nextOffset = n;
  }

  /**
   * Checks a Data-Out against its sequence (RFC 7143 §11.7.5: DataSN counts from 0 in each
   * sequence; with DataPDUInOrder the offsets are contiguous) and advances it; `final` closes it.
   */
  acceptDataOut(ttt: number, dataSn: number, offset: number, length: number, final: boolean): DataOutFault | undefined {
    let seq: { nextOffset: number; nextDataSn: number };
    let end: number;
    let r: OpenR2t | undefined;
    if (ttt === NO_TAG) {
      if (!this.unsolicitedOpen) return 'unknown-ttt';
      seq = this.unsolicited;
      end = this.unsolicited.end;
    } else {
      r = this.openR2ts.find((x) => x.ttt === ttt);
      if (r === undefined) return 'unknown-ttt';
      seq = r;
      end = r.offset + r.length;
    }
    if (dataSn !== seq.nextDataSn) return 'bad-datasn';
    if (offset !== seq.nextOffset || offset + length > end) return 'bad-offset';
    seq.nextDataSn++;
    seq.nextOffset += length;
    if (!final) return undefined;
    if (r !== undefined) {
      if (seq.nextOffset !== end) return 'short-sequence';
      this.openR2ts.splice(this.openR2ts.indexOf(r), 1);
    } else {
      this.unsolicitedOpen = false;
      // The initiator may stop short of FirstBurstLength: ask for the rest with R2Ts.
      if (seq.nextOffset < end) this.holes.push({ offset: seq.nextOffset, length: end - seq.nextOffset });
    }
    return undefined;
  }

  /** The signal the logical unit sees; aborted by `abortNow`. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** Marks the task aborted and fires its signal if anyone holds it. */
  abortNow(): void {
    this.aborted = true;
    this.controller?.abort();
  }

  /** All data is in: no unsolicited data expected, nothing left to ask for, no R2T open. */
  get dataComplete(): boolean {
    return !this.unsolicitedOpen && this.nextR2tOffset >= this.expectedLength && this.openR2ts.length === 0 && this.holes.length === 0;
  }

  /** Plans the next R2Ts within the limits; returns them (already recorded as open). */
  planR2ts(maxOutstanding: number, maxBurst: number, nextTtt: () => number): OpenR2t[] {
    const out: OpenR2t[] = [];
    while (this.openR2ts.length < maxOutstanding && this.holes.length > 0) {
      const h = this.holes.shift() as { offset: number; length: number };
      const length = Math.min(maxBurst, h.length);
      if (length < h.length) this.holes.unshift({ offset: h.offset + length, length: h.length - length });
      const r: OpenR2t = { ttt: nextTtt(), offset: h.offset, length, nextOffset: h.offset, nextDataSn: 0 };
      this.openR2ts.push(r);
      out.push(r);
    }
    while (this.openR2ts.length < maxOutstanding && this.nextR2tOffset < this.expectedLength) {
      const length = Math.min(maxBurst, this.expectedLength - this.nextR2tOffset);
      const r: OpenR2t = { ttt: nextTtt(), offset: this.nextR2tOffset, length, nextOffset: this.nextR2tOffset, nextDataSn: 0 };
      this.nextR2tOffset += length;
      this.openR2ts.push(r);
      out.push(r);
    }
    return out;
  }
}

const EMPTY = Buffer.alloc(0);
