/**
 * The state one logical unit keeps between commands, and the context every command handler gets:
 * device, identity, mode parameters, reservations, unit attentions and the LBA range lock.
 */
import type { BlockDevice } from '../../../block-device.ts';
import type { BufferPool } from '../../../io/buffer-pool.ts';
import type { Logger } from '../../../../api/log.ts';
import type { PrState } from './persistent-reservations.ts';
import type { AscPair } from './sense.ts';
import type { RangeLock } from './range-lock.ts';
import type { CopyResults } from './xcopy.ts';

/** Logical block size the unit exports (ARCHITECTURE.md: 512-byte logical blocks). */
export const LOGICAL_BLOCK_BYTES = 512;
/** log2(physical / logical): 4 KiB physical blocks (READ CAPACITY (16) LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT). */
export const PHYSICAL_BLOCK_EXPONENT = 3;
/** Largest transfer in one command, in logical blocks (VPD B0 MAXIMUM TRANSFER LENGTH): 32 MiB. */
export const MAX_TRANSFER_BLOCKS = 65536;
/** Optimal transfer length in logical blocks (VPD B0): 1 MiB. */
export const OPTIMAL_TRANSFER_BLOCKS = 2048;
/** Largest UNMAP / WRITE SAME range in logical blocks (VPD B0), kept ≤ 1 Mi blocks as libiscsi expects. */
export const MAX_UNMAP_BLOCKS = 1 << 20;
/** Most block descriptors in one UNMAP parameter list (VPD B0). */
export const MAX_UNMAP_DESCRIPTORS = 256;
/** Largest WRITE SAME in logical blocks (VPD B0 MAXIMUM WRITE SAME LENGTH). */
export const MAX_WRITE_SAME_BLOCKS = 1 << 20;
/** Largest COMPARE AND WRITE in logical blocks (VPD B0 MAXIMUM COMPARE AND WRITE LENGTH). */
export const MAX_COMPARE_AND_WRITE_BLOCKS = 255;
/** Largest WRITE ATOMIC (16) in logical blocks (VPD B0 MAXIMUM ATOMIC TRANSFER LENGTH). */
export const MAX_ATOMIC_BLOCKS = 2048;

/** Mode parameters that can change (MODE SELECT); everything else is fixed. */
export interface ModeState {
  /** Caching page WCE: writes may sit in a volatile cache until SYNCHRONIZE CACHE; false = write-through. */
  wce: boolean;
  /** Control page SWP: software write protect. */
  swp: boolean;
}

/** Identity strings and designators, derived from the volume name once. */
export interface UnitIdentity {
  readonly volume: string;
  readonly serial: string;
  /** 16-byte NAA IEEE Registered Extended designator. */
  readonly naa: Buffer;
  /** 8-byte EUI-64 designator. */
  readonly eui64: Buffer;
}

/** Everything a command handler may read or change. */
export interface UnitContext {
  readonly device: BlockDevice;
  readonly log: Logger;
  readonly identity: UnitIdentity;
  readonly mode: ModeState;
  readonly pr: PrState;
  readonly lock: RangeLock;
  /** Read buffers, recycled through ScsiResult.release (when the device has readInto). */
  readonly readBuffers: BufferPool | undefined;
  /** EXTENDED COPY status held for RECEIVE COPY RESULTS. */
  readonly copyResults: CopyResults;
  /** Posts a unit attention on every known nexus except `except`. */
  postUnitAttention(asc: AscPair, except?: string): void;
  /** Posts a unit attention on one nexus. */
  postUnitAttentionTo(nexus: string, asc: AscPair): void;
  /** Takes the oldest pending unit attention of a nexus (REQUEST SENSE reports it). */
  takeUnitAttention(nexus: string): AscPair | undefined;
  /** The iSCSI name of the target (SCSI name string designator in VPD 83h). */
  readonly targetName: string;
  /** RESERVE (6)/(10) holder (SPC-2 reservations), if any. */
  legacyReservation: string | undefined;
  /** Nexuses with PREVENT ALLOW MEDIUM REMOVAL in force. */
  readonly preventRemoval: Set<string>;
}

/** Number of logical blocks the device holds now. */
export function blockCount(ctx: UnitContext): number {
  return Math.floor(ctx.device.sizeBytes / LOGICAL_BLOCK_BYTES);
}
