/**
 * Mode parameters (SPC-4 §7.5, SBC-3 §6.5): the caching, control and informational exceptions pages,
 * MODE SENSE (6)/(10) with current, changeable and default values (saved values are not supported),
 * and MODE SELECT (6)/(10) that may change only the changeable bits (WCE, SWP).
 */
import * as E from 'fp-ts/Either';
import type { ModeSenseCdb, ModeSelectCdb } from './cdb.ts';
import type { ModeState } from './unit-state.ts';

/** Mode page codes. */
export const ModePage = {
  Caching: 0x08, // Caching mode page (SBC-3 §6.5.5)
  Control: 0x0a, // Control mode page (SPC-4 §7.5.8)
  InformationalExceptions: 0x1c, // Informational Exceptions Control (SPC-4 §7.5.11)
  All: 0x3f, // return all pages
} as const;

/** Page control values (SPC-4 table 94). */
export const PageControl = { Current: 0, Changeable: 1, Default: 2, Saved: 3 } as const;

/** Default mode parameters. */
export const DEFAULT_MODE: Readonly<ModeState> = { wce: true, swp: false };

type Values = 'current' | 'changeable' | 'default';

function caching(mode: ModeState, v: Values): Buffer {
  const p = Buffer.alloc(20);
  p[0] = ModePage.Caching;
  p[1] = 0x12;
  if (v === 'changeable') p[2] = 0x04; // WCE may change
  else p[2] = (v === 'current' ? mode.wce : DEFAULT_MODE.wce) ? 0x04 : 0x00; // WCE (bit 2), RCD 0
  return p;
}

function control(mode: ModeState, v: Values): Buffer {
  const p = Buffer.alloc(12);
  p[0] = ModePage.Control;
  p[1] = 0x0a;
  if (v === 'changeable') {
    p[4] = 0x08; // SWP may change
    return p;
  }
  p[2] = 0x00; // TST 000b (one task set), D_SENSE 0 (fixed-format sense)
  p[3] = 0x10; // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering; QERR 00b
  p[4] = (v === 'current' ? mode.swp : DEFAULT_MODE.swp) ? 0x08 : 0x00; // SWP (bit 3)
  p[5] = 0x40; // TAS 1: aborted commands of other nexuses end with TASK ABORTED
  p.writeUInt16BE(0xffff, 8); // BUSY TIMEOUT PERIOD: unlimited
  return p;
}

function informationalExceptions(v: Values): Buffer {
  const p = Buffer.alloc(12);
  p[0] = ModePage.InformationalExceptions;
  p[1] = 0x0a;
  if (v !== 'changeable') p[2] = 0x08; // DEXCPT 1: informational exception reporting disabled
  return p;
}

/** Why MODE SENSE/SELECT failed. */
export type ModeFailure =
  | { readonly _tag: 'InvalidCdbField'; readonly byte: number; readonly bit?: number }
  | { readonly _tag: 'SavingNotSupported' }
  | { readonly _tag: 'InvalidParameterField'; readonly byte: number; readonly bit?: number }
  | { readonly _tag: 'ParameterListLength' };

const PAGES = [ModePage.Caching, ModePage.Control, ModePage.InformationalExceptions] as const;

function build(code: number, mode: ModeState, v: Values): Buffer {
  if (code === ModePage.Caching) return caching(mode, v);
  if (code === ModePage.Control) return control(mode, v);
  return informationalExceptions(v);
}

/** Builds MODE SENSE data: header, optional block descriptor, and the requested pages. */
export function modeSense(cdb: ModeSenseCdb, mode: ModeState, blocks: number, blockBytes: number): E.Either<ModeFailure, Buffer> {
  if (cdb.pageControl === PageControl.Saved) return E.left({ _tag: 'SavingNotSupported' });
  const v: Values = cdb.pageControl === PageControl.Changeable ? 'changeable' : cdb.pageControl === PageControl.Default ? 'default' : 'current';
  let codes: readonly number[];
  if (cdb.pageCode === ModePage.All) {
    // Subpage 00h: pages only; FFh: pages and all subpages (we have none).
    if (cdb.subpageCode !== 0x00 && cdb.subpageCode !== 0xff) return E.left({ _tag: 'InvalidCdbField', byte: 3 });
    codes = PAGES;
  } else {
    if (!(PAGES as readonly number[]).includes(cdb.pageCode)) return E.left({ _tag: 'InvalidCdbField', byte: 2, bit: 5 });
    if (cdb.subpageCode !== 0) return E.left({ _tag: 'InvalidCdbField', byte: 3 });
    codes = [cdb.pageCode];
  }
  const pages = Buffer.concat(codes.map((c) => build(c, mode, v)));
  const deviceSpecific = 0x10 | (mode.swp ? 0x80 : 0); // DPOFUA 1, WP when software write protect is on
  const descriptor = cdb.dbd ? Buffer.alloc(0) : blockDescriptor(cdb.llbaa, blocks, blockBytes);
  if (cdb.ten) {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(6 + descriptor.length + pages.length, 0); // MODE DATA LENGTH excludes itself
    head[3] = deviceSpecific;
    head[4] = descriptor.length === 16 ? 0x01 : 0x00; // LONGLBA
    head.writeUInt16BE(descriptor.length, 6);
    return E.right(Buffer.concat([head, descriptor, pages]));
  }
  const head = Buffer.alloc(4);
  head[0] = 3 + descriptor.length + pages.length;
  head[2] = deviceSpecific;
  head[3] = descriptor.length;
  return E.right(Buffer.concat([head, descriptor, pages]));
}

function blockDescriptor(long: boolean, blocks: number, blockBytes: number): Buffer {
  if (long) {
    const d = Buffer.alloc(16);
    d.writeBigUInt64BE(BigInt(blocks), 0);
    d.writeUInt32BE(blockBytes, 12);
    return d;
  }
  const d = Buffer.alloc(8);
  d.writeUInt32BE(Math.min(blocks, 0xffffffff), 0); // NUMBER OF LOGICAL BLOCKS (FFFFFFFFh: too many to say)
  d.writeUIntBE(blockBytes, 5, 3); // LOGICAL BLOCK LENGTH
  return d;
}

/**
 * Applies a MODE SELECT parameter list: every page must match the current values except the
 * changeable bits (SPC-4 §6.9: a non-changeable field set to another value is INVALID FIELD IN
 * PARAMETER LIST). Returns the new mode state.
 */
export function modeSelect(cdb: ModeSelectCdb, data: Buffer, mode: ModeState, blockBytes: number): E.Either<ModeFailure, ModeState> {
  if (cdb.sp) return E.left({ _tag: 'InvalidCdbField', byte: 1, bit: 0 });
  if (!cdb.pf && cdb.parameterListLength > 0) return E.left({ _tag: 'InvalidCdbField', byte: 1, bit: 4 });
  const headLen = cdb.ten ? 8 : 4;
  if (data.length < cdb.parameterListLength || (cdb.parameterListLength > 0 && cdb.parameterListLength < headLen)) return E.left({ _tag: 'ParameterListLength' });
  const list = data.subarray(0, cdb.parameterListLength);
  if (list.length === 0) return E.right({ ...mode });
  const descLen = cdb.ten ? list.readUInt16BE(6) : (list[3] ?? 0);
  let off = headLen;
  if (descLen !== 0) {
    const want = cdb.ten && ((list[4] ?? 0) & 1) === 1 ? 16 : 8;
    if (descLen !== want || list.length < off + descLen) return E.left({ _tag: 'InvalidParameterField', byte: cdb.ten ? 6 : 3 });
    const bl = want === 16 ? list.readUInt32BE(off + 12) : list.readUIntBE(off + 5, 3);
    if (bl !== blockBytes) return E.left({ _tag: 'InvalidParameterField', byte: off + (want === 16 ? 12 : 5) });
    off += descLen;
  }
  const next: ModeState = { ...mode };
  while (off < list.length) {
    if (list.length < off + 2) return E.left({ _tag: 'ParameterListLength' });
    const code = (list[off] ?? 0) & 0x3f;
    if (((list[off] ?? 0) & 0x40) !== 0) return E.left({ _tag: 'InvalidParameterField', byte: off, bit: 6 }); // SPF: no subpages
    const len = (list[off + 1] ?? 0) + 2;
    if (!(PAGES as readonly number[]).includes(code)) return E.left({ _tag: 'InvalidParameterField', byte: off });
    const current = build(code, mode, 'current');
    const changeable = build(code, mode, 'changeable');
    if (len !== current.length) return E.left({ _tag: 'InvalidParameterField', byte: off + 1 });
    if (list.length < off + len) return E.left({ _tag: 'ParameterListLength' });
    const got = list.subarray(off, off + len);
    for (let i = 2; i < len; i++) {
      const diff = ((got[i] ?? 0) ^ (current[i] ?? 0)) & ~(changeable[i] ?? 0) & 0xff;
      if (diff !== 0) return E.left({ _tag: 'InvalidParameterField', byte: off + i, bit: 31 - Math.clz32(diff) });
    }
    if (code === ModePage.Caching) next.wce = ((got[2] ?? 0) & 0x04) !== 0;
    if (code === ModePage.Control) next.swp = ((got[4] ?? 0) & 0x08) !== 0;
    off += len;
  }
  return E.right(next);
}
