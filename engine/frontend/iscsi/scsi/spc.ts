/**
 * SPC-4 commands that do not move user data: INQUIRY, TEST UNIT READY, REQUEST SENSE, REPORT LUNS,
 * MODE SENSE/SELECT, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, and the SPC-2 RESERVE/RELEASE.
 */
import * as E from 'fp-ts/Either';
import { decodeInquiry, decodeModeSelect, decodeModeSense, decodePreventAllow, decodeReportLuns, decodeRequestSense, decodeStartStopUnit } from './cdb.ts';
import { modeSelect, modeSense, type ModeFailure } from './mode-pages.ts';
import type { Handler } from './sbc.ts';
import { Asc, buildSense, checkCondition, good, illegalRequest, invalidFieldInCdb, invalidFieldInParameterList, reservationConflict, SenseKey } from './sense.ts';
import { blockCount, LOGICAL_BLOCK_BYTES } from './unit-state.ts';
import { isHolder } from './persistent-reservations.ts';
import { standardInquiry, vpdPage } from './vpd.ts';
import type { ScsiResult } from './logical-unit.ts';

function truncate(b: Buffer, alloc: number): Buffer {
  return b.length > alloc ? b.subarray(0, alloc) : b;
}

/** INQUIRY (SPC-4 §6.6): standard data or a VPD page, cut to the allocation length. */
export const inquiry: Handler = async (ctx, cmd) => {
  const d = decodeInquiry(cmd.cdb);
  if (E.isLeft(d)) return invalidFieldInCdb(d.left.byte, d.left.bit);
  const q = d.right;
  if (!q.evpd) return good(truncate(standardInquiry(), q.allocationLength));
  const page = vpdPage(q.pageCode, ctx.identity, cmd.nexus, ctx.targetName);
  if (page === undefined) return invalidFieldInCdb(2);
  return good(truncate(page, q.allocationLength));
};

/** TEST UNIT READY (SPC-4 §6.37): the unit is always ready. */
export const testUnitReady: Handler = async () => good();

/** REQUEST SENSE (SPC-4 §6.29): a pending unit attention, else NO SENSE; only fixed format (DESC = 0). */
export const requestSense: Handler = async (ctx, cmd) => {
  const q = decodeRequestSense(cmd.cdb);
  if (q.desc) return invalidFieldInCdb(1, 0);
  const ua = ctx.takeUnitAttention(cmd.nexus.initiatorPort);
  const sense = ua !== undefined ? buildSense({ key: SenseKey.UnitAttention, asc: ua }) : buildSense({ key: SenseKey.NoSense, asc: Asc.NoAdditionalSense });
  return good(truncate(sense, q.allocationLength));
};

/** REPORT LUNS (SPC-4 §6.33): LUN 0 only. */
export const reportLuns: Handler = async (_ctx, cmd) => {
  const q = decodeReportLuns(cmd.cdb);
  if (q.selectReport > 0x02) return invalidFieldInCdb(2);
  if (q.allocationLength < 16) return invalidFieldInCdb(6);
  // SELECT REPORT 01h asks for well-known LUNs only, of which there are none.
  const luns = q.selectReport === 0x01 ? 0 : 1;
  const b = Buffer.alloc(8 + 8 * luns);
  b.writeUInt32BE(8 * luns, 0); // LUN LIST LENGTH; LUN 0 is all zeros
  return good(truncate(b, q.allocationLength));
};

function modeFailure(f: ModeFailure): ScsiResult {
  switch (f._tag) {
    case 'InvalidCdbField':
      return invalidFieldInCdb(f.byte, f.bit);
    case 'SavingNotSupported':
      return illegalRequest(Asc.SavingParametersNotSupported);
    case 'InvalidParameterField':
      return invalidFieldInParameterList(f.byte, f.bit);
    case 'ParameterListLength':
      return illegalRequest(Asc.ParameterListLengthError);
  }
}

/** MODE SENSE (6)/(10) (SPC-4 §6.11, §6.12). */
export const modeSenseHandler: Handler = async (ctx, cmd) => {
  const q = decodeModeSense(cmd.cdb);
  const r = modeSense(q, ctx.mode, blockCount(ctx), LOGICAL_BLOCK_BYTES);
  if (E.isLeft(r)) return modeFailure(r.left);
  return good(truncate(r.right, q.allocationLength));
};

/** MODE SELECT (6)/(10) (SPC-4 §6.9, §6.10): other nexuses get MODE PARAMETERS CHANGED. */
export const modeSelectHandler: Handler = async (ctx, cmd) => {
  const q = decodeModeSelect(cmd.cdb);
  const r = modeSelect(q, cmd.dataOut, ctx.mode, LOGICAL_BLOCK_BYTES);
  if (E.isLeft(r)) return modeFailure(r.left);
  const changed = r.right.wce !== ctx.mode.wce || r.right.swp !== ctx.mode.swp;
  if (ctx.mode.wce && !r.right.wce) {
    // Turning the write cache off: what it held must be durable before status (SBC-3 §6.5.5).
    await ctx.device.flush();
  }
  ctx.mode.wce = r.right.wce;
  ctx.mode.swp = r.right.swp;
  if (changed) ctx.postUnitAttention(Asc.ModeParametersChanged, cmd.nexus.initiatorPort);
  return good();
};

/** START STOP UNIT (SBC-3 §5.25): a virtual disk is always spinning; a stop flushes, nothing else changes. */
export const startStopUnit: Handler = async (ctx, cmd) => {
  const q = decodeStartStopUnit(cmd.cdb);
  // POWER CONDITION values 0h-3h, 5h, 7h, Ah, Bh are defined; others are reserved.
  if (![0x0, 0x1, 0x2, 0x3, 0x5, 0x7, 0xa, 0xb].includes(q.powerCondition)) return invalidFieldInCdb(4, 7);
  if (!q.start && q.powerCondition === 0 && !q.noFlush) await ctx.device.flush();
  return good();
};

/** PREVENT ALLOW MEDIUM REMOVAL (SPC-4 §6.15): recorded per nexus; the medium is not removable anyway. */
export const preventAllow: Handler = async (ctx, cmd) => {
  if (decodePreventAllow(cmd.cdb).prevent === 0) ctx.preventRemoval.delete(cmd.nexus.initiatorPort);
  else ctx.preventRemoval.add(cmd.nexus.initiatorPort);
  return good();
};

/** RESERVE (6)/(10) (SPC-2 §7.21): refused while persistent reservations or registrations exist. */
export const reserve: Handler = async (ctx, cmd) => {
  if (cmd.cdb[0] === 0x56 && ((cmd.cdb[1] ?? 0) & 0x12) !== 0) return invalidFieldInCdb(1, 4); // 3RDPTY, LONGID
  const me = cmd.nexus.initiatorPort;
  // CRH = 1 (SPC-4 §5.13.3): a persistent reservation holder's RESERVE succeeds and does nothing;
  // anyone else meets a conflict while registrations or a persistent reservation exist.
  if (isHolder(ctx.pr, me)) return good();
  if (ctx.pr.registrations.size > 0 || ctx.pr.reservation !== undefined) return reservationConflict;
  if (ctx.legacyReservation !== undefined && ctx.legacyReservation !== me) return reservationConflict;
  ctx.legacyReservation = me;
  return good();
};

/** RELEASE (6)/(10) (SPC-2 §7.19): releases the holder's reservation; from anyone else it does nothing. */
export const release: Handler = async (ctx, cmd) => {
  if (cmd.cdb[0] === 0x57 && ((cmd.cdb[1] ?? 0) & 0x12) !== 0) return invalidFieldInCdb(1, 4);
  if (ctx.legacyReservation === cmd.nexus.initiatorPort) ctx.legacyReservation = undefined;
  return good();
};

/** CHECK CONDITION, ILLEGAL REQUEST / LOGICAL UNIT NOT SUPPORTED (a LUN other than 0). */
export const lunNotSupported: ScsiResult = checkCondition({ key: SenseKey.IllegalRequest, asc: Asc.LogicalUnitNotSupported });
