/**
 * The seam between the iSCSI protocol layer (pdu/, login/, connection.ts, session.ts, target.ts) and
 * the SCSI layer (scsi/: cdb decoding, SPC-4/SBC-3 commands, sense data, mode pages, VPD, persistent
 * reservations). The iSCSI layer collects all Data-Out for a command (immediate, unsolicited and
 * R2T-solicited) before calling `execute`, and turns the result into Data-In/SCSI Response PDUs.
 */

/** The initiator port a command came from (I_T nexus): unit attentions and reservations are kept per nexus. */
export interface Nexus {
  /** iSCSI initiator name + ',i,0x' + ISID, the SCSI initiator port name (RFC 7143 §10.1.1 / SPC-4). */
  readonly initiatorPort: string;
  /** Target portal group tag the session is on. */
  readonly targetPortGroup: number;
}

export interface ScsiCommand {
  readonly nexus: Nexus;
  readonly lun: number;
  readonly cdb: Buffer;
  /** Data the initiator sent (writes); empty for reads. */
  readonly dataOut: Buffer;
  /** The initiator's Expected Data Transfer Length (read direction) in bytes. */
  readonly expectedInLength: number;
  /** Task attribute from the SCSI Command PDU (0 untagged, 1 simple, 2 ordered, 3 head of queue, 4 ACA). */
  readonly taskAttribute: number;
  /** Aborted by task management: the logical unit should stop early if it can. */
  readonly signal: AbortSignal;
}

/** SAM status codes. */
export const ScsiStatus = {
  Good: 0x00, // GOOD
  CheckCondition: 0x02, // CHECK CONDITION
  ConditionMet: 0x04, // CONDITION MET
  Busy: 0x08, // BUSY
  ReservationConflict: 0x18, // RESERVATION CONFLICT
  TaskSetFull: 0x28, // TASK SET FULL
  TaskAborted: 0x40, // TASK ABORTED
} as const;

export interface ScsiResult {
  readonly status: number;
  /** Data for the initiator (reads); the iSCSI layer truncates to the expected length and reports residuals. */
  readonly dataIn?: Buffer;
  /** Fixed-format sense data (SPC-4 §4.5.3) when status is CHECK CONDITION. */
  readonly sense?: Buffer;
  /**
   * Gives `dataIn` back to the unit's buffer pool. The iSCSI layer calls it exactly once when nothing
   * refers to `dataIn` any more: the socket has taken the Data-In, or the data is not sent at all.
   */
  readonly release?: () => void;
  /** Bytes of Data-Out the CDB called for; when set, the iSCSI layer reports write residuals (overflow/underflow) against the Expected Data Transfer Length. */
  readonly dataOutLength?: number;
}

/** Task management functions the iSCSI layer forwards (RFC 7143 §11.5.1). */
export type TaskManagement = 'abort-task-set' | 'clear-task-set' | 'lun-reset' | 'target-warm-reset' | 'target-cold-reset';

/** One logical unit (LUN 0 of a Shorthorn target). */
export interface LogicalUnit {
  execute(cmd: ScsiCommand): Promise<ScsiResult>;
  /** Task management side effects on the unit (unit attentions, reservation handling on reset). */
  taskManagement(fn: TaskManagement, nexus: Nexus): void;
  /** A nexus logged out or its session ended. */
  nexusGone(nexus: Nexus): void;
  /** How many commands the unit can usefully run at once (the target sizes MaxCmdSN from it). */
  readonly queueDepth: number;
}
