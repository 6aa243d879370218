/**
 * Fixed-format sense data (SPC-4 §4.5.3) and the one mapping from block-device errors to CHECK
 * CONDITION. Pure: no I/O.
 */
import { ScsiStatus, type ScsiResult } from './logical-unit.ts';

/** Sense keys (SPC-4 table 27). */
export const SenseKey = {
  NoSense: 0x0, // NO SENSE
  CopyAborted: 0xa, // COPY ABORTED
  NotReady: 0x2, // NOT READY
  MediumError: 0x3, // MEDIUM ERROR
  HardwareError: 0x4, // HARDWARE ERROR
  IllegalRequest: 0x5, // ILLEGAL REQUEST
  UnitAttention: 0x6, // UNIT ATTENTION
  DataProtect: 0x7, // DATA PROTECT
  AbortedCommand: 0xb, // ABORTED COMMAND
  Miscompare: 0xe, // MISCOMPARE
} as const;

/** An additional sense code and qualifier (SPC-4 table D.1), as [ASC, ASCQ]. */
export type AscPair = readonly [number, number];

/** The ASC/ASCQ pairs this target reports. */
export const Asc = {
  NoAdditionalSense: [0x00, 0x00], // NO ADDITIONAL SENSE INFORMATION
  WriteError: [0x0c, 0x00], // WRITE ERROR
  UnrecoveredReadError: [0x11, 0x00], // UNRECOVERED READ ERROR
  ParameterListLengthError: [0x1a, 0x00], // PARAMETER LIST LENGTH ERROR
  MiscompareDuringVerify: [0x1d, 0x00], // MISCOMPARE DURING VERIFY OPERATION
  InvalidCommandOperationCode: [0x20, 0x00], // INVALID COMMAND OPERATION CODE
  LbaOutOfRange: [0x21, 0x00], // LOGICAL BLOCK ADDRESS OUT OF RANGE
  InvalidFieldInCdb: [0x24, 0x00], // INVALID FIELD IN CDB
  LogicalUnitNotSupported: [0x25, 0x00], // LOGICAL UNIT NOT SUPPORTED
  InvalidFieldInParameterList: [0x26, 0x00], // INVALID FIELD IN PARAMETER LIST
  TooManyTargetDescriptors: [0x26, 0x06], // TOO MANY TARGET DESCRIPTORS
  UnsupportedTargetDescriptorTypeCode: [0x26, 0x07], // UNSUPPORTED TARGET DESCRIPTOR TYPE CODE
  TooManySegmentDescriptors: [0x26, 0x08], // TOO MANY SEGMENT DESCRIPTORS
  UnsupportedSegmentDescriptorTypeCode: [0x26, 0x09], // UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE
  CopyTargetDeviceNotReachable: [0x0d, 0x02], // COPY TARGET DEVICE NOT REACHABLE
  InvalidReleaseOfPersistentReservation: [0x26, 0x04], // INVALID RELEASE OF PERSISTENT RESERVATION
  WriteProtected: [0x27, 0x00], // WRITE PROTECTED
  SpaceAllocationFailedWriteProtect: [0x27, 0x07], // SPACE ALLOCATION FAILED WRITE PROTECT
  PowerOnResetOccurred: [0x29, 0x00], // POWER ON, RESET, OR BUS DEVICE RESET OCCURRED
  BusResetOccurred: [0x29, 0x02], // SCSI BUS RESET OCCURRED
  BusDeviceResetOccurred: [0x29, 0x03], // BUS DEVICE RESET FUNCTION OCCURRED
  ItNexusLoss: [0x29, 0x07], // I_T NEXUS LOSS OCCURRED
  ModeParametersChanged: [0x2a, 0x01], // MODE PARAMETERS CHANGED
  ReservationsPreempted: [0x2a, 0x03], // RESERVATIONS PREEMPTED
  ReservationsReleased: [0x2a, 0x04], // RESERVATIONS RELEASED
  RegistrationsPreempted: [0x2a, 0x05], // REGISTRATIONS PREEMPTED
  CapacityDataHasChanged: [0x2a, 0x09], // CAPACITY DATA HAS CHANGED
  CommandsClearedByAnotherInitiator: [0x2f, 0x00], // COMMANDS CLEARED BY ANOTHER INITIATOR
  SavingParametersNotSupported: [0x39, 0x00], // SAVING PARAMETERS NOT SUPPORTED
  InternalTargetFailure: [0x44, 0x00], // INTERNAL TARGET FAILURE
  InsufficientRegistrationResources: [0x55, 0x04], // INSUFFICIENT REGISTRATION RESOURCES
} as const satisfies Record<string, AscPair>;

/** Fixed-format sense layout (SPC-4 table 48). */
const Fixed = {
  ResponseCode: 0, // VALID (bit 7) | RESPONSE CODE 70h (current error)
  SenseKey: 2, // FILEMARK, EOM, ILI (bit 5), SENSE KEY (bits 3-0)
  Information: 3, // INFORMATION (4 bytes)
  AdditionalLength: 7, // ADDITIONAL SENSE LENGTH (n - 7)
  CommandSpecific: 8, // COMMAND-SPECIFIC INFORMATION (4 bytes)
  Asc: 12, // ADDITIONAL SENSE CODE
  Ascq: 13, // ADDITIONAL SENSE CODE QUALIFIER
  SenseKeySpecific: 15, // SKSV (bit 7) | sense-key specific (3 bytes)
  Length: 18,
} as const;

const CURRENT_FIXED = 0x70; // response code: current error, fixed format
const VALID = 0x80;
const SKSV = 0x80;
const CD_BIT = 0x40; // field pointer points into the CDB (1) or the parameter list (0)
const BPV_BIT = 0x08; // the BIT POINTER field is valid

/** Where in the CDB or parameter list the offending field is (SPC-4 §4.5.2.4.2). */
export interface FieldPointer {
  readonly inCdb: boolean;
  readonly byte: number;
  readonly bit?: number;
}

/** What goes into one fixed-format sense buffer. */
export interface SenseSpec {
  readonly key: number;
  readonly asc: AscPair;
  /** INFORMATION field (sets VALID); e.g. the first bad LBA or the miscompare offset. */
  readonly information?: number;
  readonly field?: FieldPointer;
}

/** Builds 18 bytes of fixed-format sense data. */
export function buildSense(spec: SenseSpec): Buffer {
  const b = Buffer.alloc(Fixed.Length);
  b[Fixed.ResponseCode] = CURRENT_FIXED;
  b[Fixed.SenseKey] = spec.key & 0x0f;
  if (spec.information !== undefined) {
    b[Fixed.ResponseCode] = CURRENT_FIXED | VALID;
    b.writeUInt32BE(spec.information >>> 0, Fixed.Information);
  }
  b[Fixed.AdditionalLength] = Fixed.Length - 8;
  b[Fixed.Asc] = spec.asc[0];
  b[Fixed.Ascq] = spec.asc[1];
  if (spec.field !== undefined) {
    const f = spec.field;
    b[Fixed.SenseKeySpecific] = SKSV | (f.inCdb ? CD_BIT : 0) | (f.bit !== undefined ? BPV_BIT | (f.bit & 0x07) : 0);
    b.writeUInt16BE(f.byte, Fixed.SenseKeySpecific + 1);
  }
  return b;
}

/** CHECK CONDITION carrying the given sense. */
export function checkCondition(spec: SenseSpec): ScsiResult {
  return { status: ScsiStatus.CheckCondition, sense: buildSense(spec) };
}

/** ILLEGAL REQUEST, INVALID FIELD IN CDB, pointing at byte (and bit) of the CDB. */
export function invalidFieldInCdb(byte: number, bit?: number): ScsiResult {
  return checkCondition({ key: SenseKey.IllegalRequest, asc: Asc.InvalidFieldInCdb, field: bit === undefined ? { inCdb: true, byte } : { inCdb: true, byte, bit } });
}

/** ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST, pointing at byte (and bit) of the data-out. */
export function invalidFieldInParameterList(byte: number, bit?: number): ScsiResult {
  return checkCondition({ key: SenseKey.IllegalRequest, asc: Asc.InvalidFieldInParameterList, field: bit === undefined ? { inCdb: false, byte } : { inCdb: false, byte, bit } });
}

/** ILLEGAL REQUEST with an ASC and no field pointer. */
export function illegalRequest(asc: AscPair): ScsiResult {
  return checkCondition({ key: SenseKey.IllegalRequest, asc });
}

/** ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE (INFORMATION = the LBA, when it fits). */
export function lbaOutOfRange(lba?: number): ScsiResult {
  return checkCondition(lba !== undefined && lba <= 0xffffffff ? { key: SenseKey.IllegalRequest, asc: Asc.LbaOutOfRange, information: lba } : { key: SenseKey.IllegalRequest, asc: Asc.LbaOutOfRange });
}

/** GOOD status, with optional data-in. */
export function good(dataIn?: Buffer): ScsiResult {
  return dataIn === undefined ? { status: ScsiStatus.Good } : { status: ScsiStatus.Good, dataIn };
}

/** TASK ABORTED status: task management aborted the command while it ran (SAM-5 §5.3.1). */
export const taskAborted: ScsiResult = { status: ScsiStatus.TaskAborted };

/** RESERVATION CONFLICT status (no sense data, SPC-4 §5.13.1). */
export const reservationConflict: ScsiResult = { status: ScsiStatus.ReservationConflict };

/** Which kind of I/O failed: selects MEDIUM ERROR's ASC. */
export type IoDirection = 'read' | 'write' | 'other';

/**
 * The mapping from BlockIoError codes to sense data: ENOSPC → DATA PROTECT / SPACE ALLOCATION FAILED
 * WRITE PROTECT (as Longhorn maps ENOSPC to its own type); EIO → MEDIUM ERROR (read/write) or HARDWARE
 * ERROR (flush and others); ERANGE → LBA OUT OF RANGE; EINVAL → INVALID FIELD IN CDB; anything else
 * → HARDWARE ERROR / INTERNAL TARGET FAILURE.
 */
export function senseForIoError(err: unknown, direction: IoDirection): ScsiResult {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  switch (code) {
    case 'ENOSPC':
      return checkCondition({ key: SenseKey.DataProtect, asc: Asc.SpaceAllocationFailedWriteProtect });
    case 'EIO':
      if (direction === 'read') return checkCondition({ key: SenseKey.MediumError, asc: Asc.UnrecoveredReadError });
      if (direction === 'write') return checkCondition({ key: SenseKey.MediumError, asc: Asc.WriteError });
      return checkCondition({ key: SenseKey.HardwareError, asc: Asc.InternalTargetFailure });
    case 'ERANGE':
      return lbaOutOfRange();
    case 'EINVAL':
      return illegalRequest(Asc.InvalidFieldInCdb);
    default:
      return checkCondition({ key: SenseKey.HardwareError, asc: Asc.InternalTargetFailure });
  }
}
