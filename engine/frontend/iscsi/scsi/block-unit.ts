/**
 * The direct-access logical unit (LUN 0) on a BlockDevice: checks the LUN, reports unit attentions,
 * enforces reservations, and dispatches to the command table. Per-command errors thrown by the
 * device become sense data here (senseForIoError); nothing escapes as an exception.
 */
import type { BlockDevice } from '../../../block-device.ts';
import type { Logger } from '../../../../api/log.ts';
import { serviceAction } from './cdb.ts';
import { findCommand, HAS_SERVICE_ACTIONS } from './commands.ts';
import type { LogicalUnit, Nexus, ScsiCommand, ScsiResult, TaskManagement } from './logical-unit.ts';
import { DEFAULT_MODE } from './mode-pages.ts';
import { Op } from './opcodes.ts';
import { createPrState, isConflict } from './persistent-reservations.ts';
import { RangeLock } from './range-lock.ts';
import { BufferPool } from '../../../io/buffer-pool.ts';
import { Asc, buildSense, checkCondition, good, illegalRequest, reservationConflict, senseForIoError, SenseKey, type AscPair } from './sense.ts';
import { lunNotSupported } from './spc.ts';
import { UnitAttentions } from './unit-attentions.ts';
import type { UnitContext } from './unit-state.ts';
import { absentLunInquiry, deriveIdentity } from './vpd.ts';
import { CopyResults } from './xcopy.ts';

/** Options of createBlockLogicalUnit. */
export interface BlockLogicalUnitOptions {
  readonly device: BlockDevice;
  readonly volume: string;
  readonly log: Logger;
  /** iSCSI target name (VPD 83h SCSI name string); defaults to the volume's IQN. */
  readonly targetName?: string;
  /** Commands the target lets run at once (MaxCmdSN window); default 64. */
  readonly queueDepth?: number;
}

/** Read buffers kept idle for reuse: a queue's worth of 1 MiB reads. */
const READ_BUFFERS_IDLE_BYTES = 64 * 1024 * 1024;

/** Commands that run despite a pending unit attention (SAM-5 §5.14: INQUIRY, REPORT LUNS, REQUEST SENSE). */
const IGNORES_UNIT_ATTENTION: ReadonlySet<number> = new Set([Op.Inquiry, Op.ReportLuns, Op.RequestSense]);

/** The SCSI side of one Shorthorn volume. */
class BlockLogicalUnit implements LogicalUnit {
  readonly queueDepth: number;
  private readonly ctx: UnitContext;
  private readonly uas = new UnitAttentions();

  constructor(opts: BlockLogicalUnitOptions) {
    this.queueDepth = opts.queueDepth ?? 64;
    const uas = this.uas;
    this.ctx = {
      device: opts.device,
      log: opts.log,
      identity: deriveIdentity(opts.volume),
      targetName: opts.targetName ?? `iqn.2026-11.io.shorthorn:${opts.volume}`,
      mode: { ...DEFAULT_MODE },
      pr: createPrState(),
      lock: new RangeLock(),
      readBuffers: opts.device.readInto === undefined ? undefined : new BufferPool(READ_BUFFERS_IDLE_BYTES),
      copyResults: new CopyResults(),
      legacyReservation: undefined,
      preventRemoval: new Set(),
      postUnitAttention: (asc: AscPair, except?: string) => uas.postAll(asc, except),
      postUnitAttentionTo: (nexus: string, asc: AscPair) => uas.post(nexus, asc),
      takeUnitAttention: (nexus: string) => uas.take(nexus),
    };
    opts.device.onResize?.(() => {
      opts.log.info('capacity changed: unit attention for every nexus', { sizeBytes: opts.device.sizeBytes });
      uas.postAll(Asc.CapacityDataHasChanged);
    });
  }

  async execute(cmd: ScsiCommand): Promise<ScsiResult> {
    const opcode = cmd.cdb[0] ?? 0;
    const me = cmd.nexus.initiatorPort;
    // NOTE: cmd.signal is created lazily by the iSCSI layer (an AbortController per I/O shows in
    // profiles), so only the long commands (WRITE SAME, EXTENDED COPY) look at it.
    if (cmd.lun !== 0) return this.otherLun(cmd);
    if (!this.uas.has(me)) this.uas.greet(me, Asc.PowerOnResetOccurred);
    const entry = findCommand(opcode, serviceAction(cmd.cdb));
    if (!IGNORES_UNIT_ATTENTION.has(opcode)) {
      const ua = this.uas.take(me);
      if (ua !== undefined) return checkCondition({ key: SenseKey.UnitAttention, asc: ua });
    }
    if (entry === undefined) {
      // A known opcode with an unknown service action blames the service action field.
      if (HAS_SERVICE_ACTIONS.has(opcode)) return checkCondition({ key: SenseKey.IllegalRequest, asc: Asc.InvalidFieldInCdb, field: { inCdb: true, byte: 1, bit: 4 } });
      return illegalRequest(Asc.InvalidCommandOperationCode);
    }
    const legacy = this.ctx.legacyReservation;
    if (legacy !== undefined && legacy !== me && entry.legacyAllowed !== true) return reservationConflict;
    if (isConflict(this.ctx.pr, me, entry.access)) return reservationConflict;
    let result: ScsiResult;
    try {
      result = await entry.handler(this.ctx, cmd);
    } catch (err) {
      this.ctx.log.warn('command failed', { opcode, err });
      result = senseForIoError(err, entry.access === 'read' ? 'read' : entry.access === 'write' ? 'write' : 'other');
    }
    return entry.dataOut === undefined ? result : withDataOutLength(result, entry.dataOut(cmd.cdb));
  }

  /** LUNs other than 0 (SPC-4 §4.6.2): INQUIRY says "no unit here", REPORT LUNS works, the rest fail. */
  private async otherLun(cmd: ScsiCommand): Promise<ScsiResult> {
    const opcode = cmd.cdb[0] ?? 0;
    if (opcode === Op.Inquiry) {
      const alloc = cmd.cdb.readUInt16BE(3);
      return good(absentLunInquiry().subarray(0, Math.min(alloc, 96)));
    }
    if (opcode === Op.ReportLuns) {
      const entry = findCommand(opcode, 0);
      if (entry !== undefined) return entry.handler(this.ctx, cmd);
    }
    if (opcode === Op.RequestSense) {
      // SPC-4 §6.29: REQUEST SENSE to a LUN that is not there returns LOGICAL UNIT NOT SUPPORTED as data.
      const sense = buildSense({ key: SenseKey.IllegalRequest, asc: Asc.LogicalUnitNotSupported });
      return good(sense.subarray(0, Math.min(cmd.cdb[4] ?? 0, sense.length)));
    }
    return lunNotSupported;
  }

  taskManagement(fn: TaskManagement, nexus: Nexus): void {
    if (fn === 'abort-task-set' || fn === 'clear-task-set') return;
    // LU and target resets: SPC-2 reservations and PREVENT go; persistent reservations stay (SPC-4 §5.13.1).
    this.ctx.legacyReservation = undefined;
    this.ctx.preventRemoval.clear();
    // SAM-5 §6.4: every I_T nexus, the one that asked included, sees the reset (libiscsi MultipathIO.Reset).
    const asc = fn === 'lun-reset' ? Asc.BusDeviceResetOccurred : Asc.PowerOnResetOccurred;
    this.uas.postAll(asc);
    this.ctx.log.info('task management', { fn, initiatorPort: nexus.initiatorPort });
  }

  nexusGone(nexus: Nexus): void {
    const me = nexus.initiatorPort;
    this.uas.forget(me);
    this.ctx.preventRemoval.delete(me);
    this.ctx.copyResults.forget(me);
    if (this.ctx.legacyReservation === me) this.ctx.legacyReservation = undefined;
  }
}

/**
 * `r` with the Data-Out length its CDB called for. NOTE: built field by field, not as
 * `{ ...r, dataOutLength }`: V8 made a new hidden class for every such spread-and-add (a runtime
 * call per write, and every later load from the result missed its inline cache).
 */
function withDataOutLength(r: ScsiResult, dataOutLength: number): ScsiResult {
  return { status: r.status, dataIn: r.dataIn, sense: r.sense, release: r.release, dataOutLength };
}

/** Creates LUN 0 of a volume's target on a block device. */
export function createBlockLogicalUnit(opts: BlockLogicalUnitOptions): LogicalUnit {
  return new BlockLogicalUnit(opts);
}
