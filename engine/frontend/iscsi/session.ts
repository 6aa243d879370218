import type { SessionParams } from './login/params.ts';
import type { SessionType } from './login/negotiate.ts';
import { NO_TAG } from './pdu/opcodes.ts';
import type { Nexus } from './scsi/logical-unit.ts';
import { snAdd, snInWindow, snLess } from './sequence.ts';
import type { ScsiTask } from './task.ts';

/**
 * One iSCSI session (RFC 7143 §4.2.2): command numbering, the task table and the session's
 * parameters. One connection per session (MaxConnections=1).
 *
 * Command window: ExpCmdSN is the next CmdSN to deliver; MaxCmdSN = ExpCmdSN + (depth − active)
 * − 1, never decreasing (initiators ignore a smaller MaxCmdSN, RFC 7143 §4.2.2.1), so at most
 * `depth` tasks are ever held. Non-immediate commands are delivered in CmdSN order; one that
 * arrives early waits in `held` for the gap to fill; one outside the window is silently ignored.
 */
export class Session {
  readonly tsih: number;
  readonly isid: string;
  readonly initiatorName: string;
  readonly type: SessionType;
  readonly params: SessionParams;
  readonly nexus: Nexus;
  expCmdSn: number;
  private maxCmdSn: number;
  private readonly depth: number;
  /** Write buffer bytes held by unanswered commands (memory backpressure). */
  writeBytes = 0;
  /** Tasks by Initiator Task Tag. */
  readonly tasks = new Map<number, ScsiTask>();
  private readonly held = new Map<number, () => void>();
  private ttt = 0;

  constructor(init: { tsih: number; isid: string; initiatorName: string; type: SessionType; params: SessionParams; cmdSn: number; depth: number; portalGroupTag: number }) {
    this.tsih = init.tsih;
    this.isid = init.isid;
    this.initiatorName = init.initiatorName;
    this.type = init.type;
    this.params = init.params;
    this.depth = Math.max(1, init.depth);
    this.expCmdSn = init.cmdSn >>> 0;
    this.maxCmdSn = snAdd(this.expCmdSn, this.depth - 1);
    // SPC-4 / RFC 7143 §10.1.1: the SCSI initiator port name is "<name>,i,0x<ISID>".
    this.nexus = { initiatorPort: `${init.initiatorName},i,0x${init.isid}`, targetPortGroup: init.portalGroupTag };
  }

  /** MaxCmdSN to advertise now (monotonic). */
  get currentMaxCmdSn(): number {
    const want = snAdd(this.expCmdSn, this.depth - this.tasks.size - 1);
    if (snLess(this.maxCmdSn, want)) this.maxCmdSn = want;
    return this.maxCmdSn;
  }

  /**
   * Decides what to do with a command numbered `cmdSn`: 'now' (delivered; ExpCmdSN advanced for a
   * non-immediate one), 'later' (early: call `hold`), or 'drop' (outside the window or a duplicate).
   */
  admit(cmdSn: number, immediate: boolean): 'now' | 'later' | 'drop' {
    if (immediate) return 'now';
    if (cmdSn === this.expCmdSn) {
      this.expCmdSn = snAdd(this.expCmdSn, 1);
      return 'now';
    }
    if (snInWindow(cmdSn, this.expCmdSn, this.maxCmdSn) && !this.held.has(cmdSn)) return 'later';
    return 'drop';
  }

  /** Keeps an early command until its turn. */
  hold(cmdSn: number, run: () => void): void {
    this.held.set(cmdSn, run);
  }

  /** Delivers held commands whose turn has come. */
  runHeld(): void {
    while (this.held.size > 0) {
      const run = this.held.get(this.expCmdSn);
      if (run === undefined) return;
      this.held.delete(this.expCmdSn);
      this.expCmdSn = snAdd(this.expCmdSn, 1);
      run();
    }
  }

  /**
   * Counts `cmdSn` (in the window, not yet arrived) as received without running anything
   * (RFC 7143 §11.6.1, ABORT TASK of a command still on its way): the command is dropped if it
   * comes, and the commands after it are delivered as if it had run.
   */
  consumeCmdSn(cmdSn: number): void {
    if (this.held.has(cmdSn)) return;
    this.held.set(cmdSn, () => {});
    this.runHeld();
  }

  /** A fresh Target Transfer Tag (never the reserved 0xffffffff). */
  nextTtt(): number {
    this.ttt = (this.ttt + 1) >>> 0;
    if (this.ttt === NO_TAG) this.ttt = 1;
    return this.ttt;
  }

  /** Forgets commands still waiting for their turn (the session is ending). */
  clearHeld(): void {
    this.held.clear();
  }
}
