/**
 * Persistent reservations (SPC-4 §5.13): registrations, the reservation, and the PERSISTENT RESERVE
 * OUT service actions as pure transitions. Each transition returns Either a sense/status failure or
 * the unit attentions to post; the state is mutated only on success. Registrations are per I_T nexus
 * (the SCSI initiator port name) and kept in memory: APTPL is not supported (PTPL_C = 0).
 */
import * as E from 'fp-ts/Either';
import { PrOut, PrType } from './opcodes.ts';
import { Asc, type AscPair } from './sense.ts';

/** The reservation held on the logical unit. */
export interface Reservation {
  readonly type: number;
  /** The holder's nexus; for all-registrants types every registrant holds it. */
  readonly holder: string;
  readonly key: bigint;
}

/** All persistent-reservation state of a logical unit. */
export interface PrState {
  generation: number;
  readonly registrations: Map<string, bigint>;
  reservation: Reservation | undefined;
}

/** Creates empty reservation state. */
export function createPrState(): PrState {
  return { generation: 0, registrations: new Map(), reservation: undefined };
}

/** Why a PERSISTENT RESERVE OUT failed: RESERVATION CONFLICT, or a CHECK CONDITION naming a field. */
export type PrFailure =
  | { readonly _tag: 'Conflict' }
  | { readonly _tag: 'InvalidCdbField'; readonly byte: number; readonly bit?: number }
  | { readonly _tag: 'InvalidParameterField'; readonly byte: number; readonly bit?: number }
  | { readonly _tag: 'IllegalRequest'; readonly asc: AscPair };

/** A unit attention to post on a nexus. */
export interface PendingUa {
  readonly nexus: string;
  readonly asc: AscPair;
}

/** A decoded PERSISTENT RESERVE OUT (basic parameter list, SPC-4 §6.14.3). */
export interface PrOutRequest {
  readonly serviceAction: number;
  readonly scope: number;
  readonly type: number;
  readonly key: bigint;
  readonly serviceActionKey: bigint;
  readonly specIPt: boolean;
  readonly allTgPt: boolean;
  readonly aptpl: boolean;
}

const VALID_TYPES: ReadonlySet<number> = new Set(Object.values(PrType));

/** True for the all-registrants types (WE-AR, EA-AR), whose holders are every registrant. */
export function isAllRegistrants(type: number): boolean {
  return type === PrType.WriteExclusiveAllRegistrants || type === PrType.ExclusiveAccessAllRegistrants;
}

/** True for the registrants-only and all-registrants types, which let registrants in. */
function lettingRegistrantsIn(type: number): boolean {
  return type !== PrType.WriteExclusive && type !== PrType.ExclusiveAccess;
}

/** True when `nexus` holds the reservation (SPC-4 §5.13.9). */
export function isHolder(pr: PrState, nexus: string): boolean {
  const r = pr.reservation;
  if (r === undefined) return false;
  return isAllRegistrants(r.type) ? pr.registrations.has(nexus) : r.holder === nexus;
}

/** How a command touches the medium, for the conflict table. */
export type AccessClass = 'allowed' | 'read' | 'write';

/**
 * SPC-4 table 46, reduced to its rows: with Exclusive Access types, reads and writes from a nexus that
 * may not access conflict; with Write Exclusive types, only writes do. Registrants may access under the
 * registrants-only and all-registrants types.
 */
export function isConflict(pr: PrState, nexus: string, access: AccessClass): boolean {
  const r = pr.reservation;
  if (r === undefined || access === 'allowed') return false;
  if (isHolder(pr, nexus)) return false;
  if (lettingRegistrantsIn(r.type) && pr.registrations.has(nexus)) return false;
  const exclusiveAccess = r.type === PrType.ExclusiveAccess || r.type === PrType.ExclusiveAccessRegistrantsOnly || r.type === PrType.ExclusiveAccessAllRegistrants;
  return exclusiveAccess || access === 'write';
}

const conflict: PrFailure = { _tag: 'Conflict' };

function others(pr: PrState, except: string, asc: AscPair): PendingUa[] {
  return [...pr.registrations.keys()].filter((n) => n !== except).map((nexus) => ({ nexus, asc }));
}

/** Removes a registration, releasing the reservation when its holder goes (SPC-4 §5.13.11.2.3). */
function unregister(pr: PrState, nexus: string): PendingUa[] {
  const r = pr.reservation;
  pr.registrations.delete(nexus);
  if (r === undefined) return [];
  if (isAllRegistrants(r.type)) {
    if (pr.registrations.size === 0) pr.reservation = undefined;
    return [];
  }
  if (r.holder !== nexus) return [];
  pr.reservation = undefined;
  // Only the registrants-only types tell the other registrants that the reservation went away.
  const ro = r.type === PrType.WriteExclusiveRegistrantsOnly || r.type === PrType.ExclusiveAccessRegistrantsOnly;
  return ro ? others(pr, nexus, Asc.ReservationsReleased) : [];
}

function register(pr: PrState, nexus: string, req: PrOutRequest, ignoreExisting: boolean): E.Either<PrFailure, PendingUa[]> {
  if (req.specIPt) return E.left({ _tag: 'InvalidParameterField', byte: 20, bit: 3 });
  if (req.aptpl) return E.left({ _tag: 'InvalidParameterField', byte: 20, bit: 0 });
  const current = pr.registrations.get(nexus);
  if (current === undefined) {
    if (!ignoreExisting && req.key !== 0n) return E.left(conflict);
    if (req.serviceActionKey === 0n) return E.right([]);
    pr.registrations.set(nexus, req.serviceActionKey);
    pr.generation++;
    return E.right([]);
  }
  if (!ignoreExisting && req.key !== current) return E.left(conflict);
  pr.generation++;
  if (req.serviceActionKey === 0n) return E.right(unregister(pr, nexus));
  pr.registrations.set(nexus, req.serviceActionKey);
  const r = pr.reservation;
  if (r !== undefined && r.holder === nexus) pr.reservation = { ...r, key: req.serviceActionKey };
  return E.right([]);
}

function checkScopeAndType(req: PrOutRequest): PrFailure | undefined {
  if (req.scope !== 0) return { _tag: 'InvalidCdbField', byte: 2, bit: 4 };
  if (!VALID_TYPES.has(req.type)) return { _tag: 'InvalidCdbField', byte: 2, bit: 0 };
  return undefined;
}

function reserve(pr: PrState, nexus: string, req: PrOutRequest): E.Either<PrFailure, PendingUa[]> {
  const bad = checkScopeAndType(req);
  if (bad !== undefined) return E.left(bad);
  const r = pr.reservation;
  if (r !== undefined) {
    // SPC-4 §5.13.7: a holder reserving again with the same type and scope is a no-op; anything else conflicts.
    return isHolder(pr, nexus) && r.type === req.type ? E.right([]) : E.left(conflict);
  }
  pr.reservation = { type: req.type, holder: nexus, key: req.key };
  return E.right([]);
}

function release(pr: PrState, nexus: string, req: PrOutRequest): E.Either<PrFailure, PendingUa[]> {
  const r = pr.reservation;
  // SPC-4 §5.13.11.2.1: releasing without holding it is GOOD and does nothing.
  if (r === undefined || !isHolder(pr, nexus)) return E.right([]);
  if (req.scope !== 0 || r.type !== req.type) return E.left({ _tag: 'IllegalRequest', asc: Asc.InvalidReleaseOfPersistentReservation });
  pr.reservation = undefined;
  return E.right(r.type === PrType.WriteExclusive || r.type === PrType.ExclusiveAccess ? [] : others(pr, nexus, Asc.ReservationsReleased));
}

function clear(pr: PrState, nexus: string): E.Either<PrFailure, PendingUa[]> {
  const uas = others(pr, nexus, Asc.ReservationsPreempted);
  pr.registrations.clear();
  pr.reservation = undefined;
  pr.generation++;
  return E.right(uas);
}

function removeByKey(pr: PrState, nexus: string, key: bigint): PendingUa[] {
  const removed: PendingUa[] = [];
  for (const [n, k] of [...pr.registrations]) {
    if (k === key && n !== nexus) {
      pr.registrations.delete(n);
      removed.push({ nexus: n, asc: Asc.RegistrationsPreempted });
    }
  }
  return removed;
}

function preempt(pr: PrState, nexus: string, req: PrOutRequest): E.Either<PrFailure, PendingUa[]> {
  const r = pr.reservation;
  const sark = req.serviceActionKey;
  if (r !== undefined) {
    const bad = checkScopeAndType(req);
    if (bad !== undefined) return E.left(bad);
  }
  if (r === undefined || (!isAllRegistrants(r.type) && sark !== r.key) || (isAllRegistrants(r.type) && sark !== 0n)) {
    // SPC-4 §5.13.11.4.3: no reservation to take over — only remove the registrations holding sark.
    if (sark === 0n) return E.left({ _tag: 'InvalidParameterField', byte: 8 });
    const removed = removeByKey(pr, nexus, sark);
    if (removed.length === 0) return E.left(conflict);
    pr.generation++;
    return E.right(removed);
  }
  // Take over the reservation: remove the preempted registrations and reserve with the new type.
  const removed = isAllRegistrants(r.type)
    ? [...pr.registrations.keys()].filter((n) => n !== nexus).map((n) => (pr.registrations.delete(n), { nexus: n, asc: Asc.RegistrationsPreempted }))
    : removeByKey(pr, nexus, sark);
  const changed = r.type !== req.type;
  pr.reservation = { type: req.type, holder: nexus, key: req.key };
  pr.generation++;
  return E.right([...removed, ...(changed ? others(pr, nexus, Asc.ReservationsReleased) : [])]);
}

/** Applies one PERSISTENT RESERVE OUT from `nexus`. */
export function applyPrOut(pr: PrState, nexus: string, req: PrOutRequest): E.Either<PrFailure, PendingUa[]> {
  if (req.serviceAction === PrOut.Register) return register(pr, nexus, req, false);
  if (req.serviceAction === PrOut.RegisterAndIgnoreExistingKey) return register(pr, nexus, req, true);
  if (req.serviceAction > PrOut.RegisterAndIgnoreExistingKey) return E.left({ _tag: 'InvalidCdbField', byte: 1, bit: 4 });
  // Every other service action needs a registered nexus presenting its own key (SPC-4 §5.13.11.1).
  const current = pr.registrations.get(nexus);
  if (current === undefined || current !== req.key) return E.left(conflict);
  switch (req.serviceAction) {
    case PrOut.Reserve:
      return reserve(pr, nexus, req);
    case PrOut.Release:
      return release(pr, nexus, req);
    case PrOut.Clear:
      return clear(pr, nexus);
    default:
      return preempt(pr, nexus, req);
  }
}
