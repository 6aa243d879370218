/**
 * PERSISTENT RESERVE IN / OUT (SPC-4 §6.13, §6.14): decoding the CDB and parameter list, answering
 * READ KEYS, READ RESERVATION, REPORT CAPABILITIES and READ FULL STATUS, and posting the unit
 * attentions a PERSISTENT RESERVE OUT causes.
 */
import * as E from 'fp-ts/Either';
import { decodePrIn, decodePrOut } from './cdb.ts';
import type { ScsiResult } from './logical-unit.ts';
import { PrIn, PrOut } from './opcodes.ts';
import { applyPrOut, isAllRegistrants, isHolder, type PrFailure, type PrState } from './persistent-reservations.ts';
import type { Handler } from './sbc.ts';
import { Asc, good, illegalRequest, invalidFieldInCdb, invalidFieldInParameterList, reservationConflict } from './sense.ts';

/** PERSISTENT RESERVE OUT basic parameter list (SPC-4 table 225). */
const OutList = { Key: 0, ServiceActionKey: 8, Flags: 20, Length: 24 } as const;
const ISCSI_PROTOCOL = 0x5;

function truncate(b: Buffer, alloc: number): Buffer {
  return b.length > alloc ? b.subarray(0, alloc) : b;
}

function failure(f: PrFailure): ScsiResult {
  switch (f._tag) {
    case 'Conflict':
      return reservationConflict;
    case 'InvalidCdbField':
      return invalidFieldInCdb(f.byte, f.bit);
    case 'InvalidParameterField':
      return invalidFieldInParameterList(f.byte, f.bit);
    case 'IllegalRequest':
      return illegalRequest(f.asc);
  }
}

/** PERSISTENT RESERVE OUT. */
export const persistentReserveOut: Handler = async (ctx, cmd) => {
  const q = decodePrOut(cmd.cdb);
  if (q.serviceAction > PrOut.RegisterAndIgnoreExistingKey) return invalidFieldInCdb(1, 4);
  if (q.parameterListLength !== OutList.Length || cmd.dataOut.length < OutList.Length) return illegalRequest(Asc.ParameterListLengthError);
  const p = cmd.dataOut;
  const flags = p[OutList.Flags] ?? 0;
  const me = cmd.nexus.initiatorPort;
  const r = applyPrOut(ctx.pr, me, {
    serviceAction: q.serviceAction,
    scope: q.scope,
    type: q.type,
    key: p.readBigUInt64BE(OutList.Key),
    serviceActionKey: p.readBigUInt64BE(OutList.ServiceActionKey),
    specIPt: (flags & 0x08) !== 0,
    allTgPt: (flags & 0x04) !== 0,
    aptpl: (flags & 0x01) !== 0,
  });
  if (E.isLeft(r)) return failure(r.left);
  for (const ua of r.right) ctx.postUnitAttentionTo(ua.nexus, ua.asc);
  return good();
};

function readKeys(pr: PrState): Buffer {
  const keys = [...pr.registrations.values()];
  const b = Buffer.alloc(8 + 8 * keys.length);
  b.writeUInt32BE(pr.generation >>> 0, 0); // PRGENERATION
  b.writeUInt32BE(8 * keys.length, 4); // ADDITIONAL LENGTH
  keys.forEach((k, i) => b.writeBigUInt64BE(k, 8 + 8 * i));
  return b;
}

function readReservation(pr: PrState): Buffer {
  const r = pr.reservation;
  const b = Buffer.alloc(r === undefined ? 8 : 24);
  b.writeUInt32BE(pr.generation >>> 0, 0);
  if (r !== undefined) {
    b.writeUInt32BE(16, 4);
    // All-registrants reservations report a key of zero (SPC-4 §6.13.3.2).
    b.writeBigUInt64BE(isAllRegistrants(r.type) ? 0n : r.key, 8);
    b[21] = r.type & 0x0f; // SCOPE 0h (LU) | TYPE
  }
  return b;
}

function reportCapabilities(): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(8, 0); // LENGTH
  b[2] = 0x10 | 0x04; // CRH 1 (RESERVE/RELEASE as SPC-4 §5.13.3 says), ATP_C 1 (one target port: ALL_TG_PT is that port); SIP_C, PTPL_C 0
  b[3] = 0x80; // TMV 1: the type mask is valid; ALLOW COMMANDS 000b; PTPL_A 0
  b[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02; // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
  b[5] = 0x01; // EX_AC_AR
  return b;
}

/** iSCSI initiator port TransportID (SPC-4 §7.6.4.6, format 01b): "<name>,i,0x<isid>", NUL-padded to 4. */
function transportId(initiatorPort: string): Buffer {
  const name = Buffer.from(initiatorPort, 'utf8');
  const padded = Math.ceil((name.length + 1) / 4) * 4;
  const b = Buffer.alloc(4 + padded);
  b[0] = 0x40 | ISCSI_PROTOCOL; // FORMAT CODE 01b, PROTOCOL IDENTIFIER iSCSI
  b.writeUInt16BE(padded, 2);
  name.copy(b, 4);
  return b;
}

function readFullStatus(pr: PrState): Buffer {
  const parts = [...pr.registrations].map(([nexus, key]) => {
    const tid = transportId(nexus);
    const d = Buffer.alloc(24);
    d.writeBigUInt64BE(key, 0);
    const holds = isHolder(pr, nexus);
    d[12] = holds ? 0x01 : 0x00; // R_HOLDER
    d[13] = holds && pr.reservation !== undefined ? pr.reservation.type & 0x0f : 0; // SCOPE | TYPE
    d.writeUInt16BE(1, 18); // RELATIVE TARGET PORT IDENTIFIER
    d.writeUInt32BE(tid.length, 20); // ADDITIONAL DESCRIPTOR LENGTH
    return Buffer.concat([d, tid]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(pr.generation >>> 0, 0);
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** PERSISTENT RESERVE IN. */
export const persistentReserveIn: Handler = async (ctx, cmd) => {
  const q = decodePrIn(cmd.cdb);
  const alloc = q.allocationLength;
  switch (q.serviceAction) {
    case PrIn.ReadKeys:
      return good(truncate(readKeys(ctx.pr), alloc));
    case PrIn.ReadReservation:
      return good(truncate(readReservation(ctx.pr), alloc));
    case PrIn.ReportCapabilities:
      return good(truncate(reportCapabilities(), alloc));
    case PrIn.ReadFullStatus:
      return good(truncate(readFullStatus(ctx.pr), alloc));
    default:
      return invalidFieldInCdb(1, 4);
  }
};
