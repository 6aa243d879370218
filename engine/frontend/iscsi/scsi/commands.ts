/**
 * The command table: every operation code (and service action) the unit supports, its handler, how
 * it meets reservations, and its CDB usage data for REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35.3:
 * byte 0 is the opcode, each other byte a mask of the bits the device server looks at).
 */
import * as E from 'fp-ts/Either';
import { decodeBlockRange, readLength } from './cdb.ts';
import { MaintenanceIn, Op, ServiceActionIn16 } from './opcodes.ts';
import type { AccessClass } from './persistent-reservations.ts';
import { persistentReserveIn, persistentReserveOut } from './pr-commands.ts';
import { answerSupportedOperationCodes, answerSupportedTaskManagementFunctions } from './rsoc.ts';
import { compareAndWrite, orWrite, preFetch, read, synchronizeCache, verify, write, writeAtomic, type Handler } from './sbc.ts';
import { getLbaStatus, readCapacity10, readCapacity16, readDefectData, unmap, writeSame } from './sbc-provisioning.ts';
import { extendedCopy, receiveCopyResults } from './xcopy.ts';
import { inquiry, modeSelectHandler, modeSenseHandler, preventAllow, release, reportLuns, requestSense, reserve, startStopUnit, testUnitReady } from './spc.ts';

/** One supported command. */
export interface CommandEntry {
  readonly opcode: number;
  /** Service action, for opcodes that have them. */
  readonly serviceAction?: number;
  readonly name: string;
  /** CDB usage data, hex; its length is the CDB length. */
  readonly usage: string;
  /** Persistent-reservation class (SPC-4 table 46). */
  readonly access: AccessClass;
  /** Still allowed to other nexuses while an SPC-2 RESERVE is held (SPC-2 §5.5.1). */
  readonly legacyAllowed?: boolean;
  /** Bytes of data-out the CDB calls for (commands with a data-out phase), for write residuals. */
  readonly dataOut?: (cdb: Buffer) => number;
  readonly handler: Handler;
}

const B = 512;

function rangeBlocks(cdb: Buffer): number {
  const d = decodeBlockRange(cdb);
  return E.isRight(d) ? d.right.blocks : 0;
}

/** Data-out of WRITE-like commands: the transfer length in blocks. */
const blocksOut = (cdb: Buffer): number => rangeBlocks(cdb) * B;
/** COMPARE AND WRITE sends the verify data and the write data. */
const cawOut = (cdb: Buffer): number => 2 * rangeBlocks(cdb) * B;
/** WRITE SAME sends one block, or none with NDOB. */
const writeSameOut = (cdb: Buffer): number => (cdb[0] === 0x93 && ((cdb[1] ?? 0) & 0x01) !== 0 ? 0 : B);
/** VERIFY sends data only with BYTCHK: every block (01b) or one (11b). */
const verifyOut = (cdb: Buffer): number => {
  const bytchk = ((cdb[1] ?? 0) >> 1) & 3;
  return bytchk === 1 ? rangeBlocks(cdb) * B : bytchk === 3 ? B : 0;
};
const listOut = (offset: number, width: 1 | 2 | 4) => (cdb: Buffer): number => readLength(cdb, offset, width);

const lba10 = 'ffffffff00ffff00';
const lba12 = 'ffffffffffffffff0000';
const lba16 = 'ffffffffffffffffffffffff0000';

/** Every supported command, in opcode order. */
export const COMMANDS: readonly CommandEntry[] = [
  { opcode: Op.TestUnitReady, name: 'TEST UNIT READY', usage: '000000000000', access: 'allowed', handler: testUnitReady },
  { opcode: Op.RequestSense, name: 'REQUEST SENSE', usage: '03010000ff00', access: 'allowed', legacyAllowed: true, handler: requestSense },
  { opcode: Op.Read6, name: 'READ (6)', usage: '081fffffff00', access: 'read', handler: read },
  { opcode: Op.Write6, name: 'WRITE (6)', usage: '0a1fffffff00', access: 'write', dataOut: blocksOut, handler: write },
  { opcode: Op.Inquiry, name: 'INQUIRY', usage: '1201ffffff00', access: 'allowed', legacyAllowed: true, handler: inquiry },
  { opcode: Op.ModeSelect6, name: 'MODE SELECT (6)', usage: '15110000ff00', access: 'write', dataOut: listOut(4, 1), handler: modeSelectHandler },
  { opcode: Op.Reserve6, name: 'RESERVE (6)', usage: '160000000000', access: 'allowed', handler: reserve },
  { opcode: Op.Release6, name: 'RELEASE (6)', usage: '170000000000', access: 'allowed', legacyAllowed: true, handler: release },
  { opcode: Op.ModeSense6, name: 'MODE SENSE (6)', usage: '1a08ffffff00', access: 'read', handler: modeSenseHandler },
  { opcode: Op.StartStopUnit, name: 'START STOP UNIT', usage: '1b01000ff700', access: 'write', handler: startStopUnit },
  { opcode: Op.PreventAllowMediumRemoval, name: 'PREVENT ALLOW MEDIUM REMOVAL', usage: '1e0000000300', access: 'allowed', handler: preventAllow },
  { opcode: Op.ReadCapacity10, name: 'READ CAPACITY (10)', usage: '2500ffffffff00000100', access: 'allowed', handler: readCapacity10 },
  { opcode: Op.Read10, name: 'READ (10)', usage: '2818' + lba10, access: 'read', handler: read },
  { opcode: Op.Write10, name: 'WRITE (10)', usage: '2a18' + lba10, access: 'write', dataOut: blocksOut, handler: write },
  { opcode: Op.WriteAndVerify10, name: 'WRITE AND VERIFY (10)', usage: '2e12' + lba10, access: 'write', dataOut: blocksOut, handler: write },
  { opcode: Op.Verify10, name: 'VERIFY (10)', usage: '2f16' + lba10, access: 'read', dataOut: verifyOut, handler: verify },
  { opcode: Op.PreFetch10, name: 'PRE-FETCH (10)', usage: '3402' + lba10, access: 'read', handler: preFetch },
  { opcode: Op.SynchronizeCache10, name: 'SYNCHRONIZE CACHE (10)', usage: '3502' + lba10, access: 'write', handler: synchronizeCache },
  { opcode: Op.ReadDefectData10, name: 'READ DEFECT DATA (10)', usage: '37001f00000000ffff00', access: 'read', handler: readDefectData },
  { opcode: Op.WriteSame10, name: 'WRITE SAME (10)', usage: '4108' + lba10, access: 'write', dataOut: writeSameOut, handler: writeSame },
  { opcode: Op.Unmap, name: 'UNMAP', usage: '4200000000000000ffff00', access: 'write', dataOut: listOut(7, 2), handler: unmap },
  { opcode: Op.ModeSelect10, name: 'MODE SELECT (10)', usage: '5511000000000000ffff00', access: 'write', dataOut: listOut(7, 2), handler: modeSelectHandler },
  { opcode: Op.Reserve10, name: 'RESERVE (10)', usage: '56000000000000000000', access: 'allowed', handler: reserve },
  { opcode: Op.Release10, name: 'RELEASE (10)', usage: '57000000000000000000', access: 'allowed', legacyAllowed: true, handler: release },
  { opcode: Op.ModeSense10, name: 'MODE SENSE (10)', usage: '5a18ffff000000ffff00', access: 'read', handler: modeSenseHandler },
  { opcode: Op.PersistentReserveIn, name: 'PERSISTENT RESERVE IN', usage: '5e1f0000000000ffff00', access: 'allowed', handler: persistentReserveIn },
  { opcode: Op.PersistentReserveOut, name: 'PERSISTENT RESERVE OUT', usage: '5f1fff0000ffffffff00', access: 'allowed', dataOut: listOut(5, 4), handler: persistentReserveOut },
  { opcode: Op.ExtendedCopy, serviceAction: 0x00, name: 'EXTENDED COPY (LID1)', usage: '831f0000000000000000ffffffff0000', access: 'write', dataOut: listOut(10, 4), handler: extendedCopy },
  { opcode: Op.ReceiveCopyResults, serviceAction: 0x00, name: 'RECEIVE COPY STATUS (LID1)', usage: '841fff00000000000000ffffffff0000', access: 'allowed', handler: receiveCopyResults },
  { opcode: Op.ReceiveCopyResults, serviceAction: 0x03, name: 'RECEIVE COPY OPERATING PARAMETERS', usage: '841f0000000000000000ffffffff0000', access: 'allowed', handler: receiveCopyResults },
  { opcode: Op.Read16, name: 'READ (16)', usage: '8818' + lba16, access: 'read', handler: read },
  { opcode: Op.CompareAndWrite, name: 'COMPARE AND WRITE', usage: '8918ffffffffffffffff000000ff0000', access: 'write', dataOut: cawOut, handler: compareAndWrite },
  { opcode: Op.Write16, name: 'WRITE (16)', usage: '8a18' + lba16, access: 'write', dataOut: blocksOut, handler: write },
  { opcode: Op.OrWrite16, name: 'ORWRITE (16)', usage: '8b18' + lba16, access: 'write', dataOut: blocksOut, handler: orWrite },
  { opcode: Op.WriteAndVerify16, name: 'WRITE AND VERIFY (16)', usage: '8e12' + lba16, access: 'write', dataOut: blocksOut, handler: write },
  { opcode: Op.Verify16, name: 'VERIFY (16)', usage: '8f16' + lba16, access: 'read', dataOut: verifyOut, handler: verify },
  { opcode: Op.PreFetch16, name: 'PRE-FETCH (16)', usage: '9002' + lba16, access: 'read', handler: preFetch },
  { opcode: Op.SynchronizeCache16, name: 'SYNCHRONIZE CACHE (16)', usage: '9102' + lba16, access: 'write', handler: synchronizeCache },
  { opcode: Op.WriteSame16, name: 'WRITE SAME (16)', usage: '9309' + lba16, access: 'write', dataOut: writeSameOut, handler: writeSame },
  { opcode: Op.WriteAtomic16, name: 'WRITE ATOMIC (16)', usage: '9c18ffffffffffffffff0000ffff0000', access: 'write', dataOut: blocksOut, handler: writeAtomic },
  { opcode: Op.ServiceActionIn16, serviceAction: ServiceActionIn16.ReadCapacity16, name: 'READ CAPACITY (16)', usage: '9e1f0000000000000000ffffffff0000', access: 'allowed', handler: readCapacity16 },
  { opcode: Op.ServiceActionIn16, serviceAction: ServiceActionIn16.GetLbaStatus, name: 'GET LBA STATUS', usage: '9e1f' + lba16, access: 'read', handler: getLbaStatus },
  { opcode: Op.ReportLuns, name: 'REPORT LUNS', usage: 'a000ff000000ffffffff0000', access: 'allowed', legacyAllowed: true, handler: reportLuns },
  { opcode: Op.MaintenanceIn, serviceAction: MaintenanceIn.ReportSupportedOperationCodes, name: 'REPORT SUPPORTED OPERATION CODES', usage: 'a31f87ffffffffffffff0000', access: 'allowed', legacyAllowed: true, handler: async (_ctx, cmd) => answerSupportedOperationCodes(cmd.cdb, COMMANDS, HAS_SERVICE_ACTIONS) },
  { opcode: Op.MaintenanceIn, serviceAction: MaintenanceIn.ReportSupportedTaskManagementFunctions, name: 'REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS', usage: 'a31f80000000ffffffff0000', access: 'allowed', legacyAllowed: true, handler: async (_ctx, cmd) => answerSupportedTaskManagementFunctions(cmd.cdb) },
  { opcode: Op.Read12, name: 'READ (12)', usage: 'a818' + lba12, access: 'read', handler: read },
  { opcode: Op.Write12, name: 'WRITE (12)', usage: 'aa18' + lba12, access: 'write', dataOut: blocksOut, handler: write },
  { opcode: Op.WriteAndVerify12, name: 'WRITE AND VERIFY (12)', usage: 'ae12' + lba12, access: 'write', dataOut: blocksOut, handler: write },
  { opcode: Op.Verify12, name: 'VERIFY (12)', usage: 'af16' + lba12, access: 'read', dataOut: verifyOut, handler: verify },
  { opcode: Op.ReadDefectData12, name: 'READ DEFECT DATA (12)', usage: 'b71f00000000ffffffff0000', access: 'read', handler: readDefectData },
];

/** Opcodes whose meaning depends on a service action in byte 1. */
export const HAS_SERVICE_ACTIONS: ReadonlySet<number> = new Set(COMMANDS.filter((c) => c.serviceAction !== undefined).map((c) => c.opcode));

const BY_KEY = new Map(COMMANDS.map((c) => [key(c.opcode, c.serviceAction), c]));

function key(opcode: number, sa: number | undefined): number {
  return opcode * 0x10000 + (sa ?? 0xffff);
}

/** The entry for an opcode (and service action, when the opcode has them). */
export function findCommand(opcode: number, sa: number): CommandEntry | undefined {
  return BY_KEY.get(key(opcode, HAS_SERVICE_ACTIONS.has(opcode) ? sa : undefined));
}
