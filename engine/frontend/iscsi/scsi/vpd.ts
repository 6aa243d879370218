/**
 * Standard INQUIRY data and the vital product data pages (SPC-4 §6.6, §7.8; SBC-3 §6.6): 00h
 * supported pages, 80h unit serial number, 83h device identification, B0h block limits, B1h block
 * device characteristics, B2h logical block provisioning. Pure: built from the unit's identity.
 */
import { createHash } from 'node:crypto';
import type { Nexus } from './logical-unit.ts';
import { thirdPartyCopyPage } from './xcopy.ts';
import {
  MAX_ATOMIC_BLOCKS,
  MAX_COMPARE_AND_WRITE_BLOCKS,
  MAX_TRANSFER_BLOCKS,
  MAX_UNMAP_BLOCKS,
  MAX_UNMAP_DESCRIPTORS,
  MAX_WRITE_SAME_BLOCKS,
  OPTIMAL_TRANSFER_BLOCKS,
  PHYSICAL_BLOCK_EXPONENT,
  type UnitIdentity,
} from './unit-state.ts';

/** VPD page codes this unit answers. */
export const VpdPage = {
  SupportedPages: 0x00, // SUPPORTED VPD PAGES (SPC-4 §7.8.16)
  UnitSerialNumber: 0x80, // UNIT SERIAL NUMBER (SPC-4 §7.8.17)
  DeviceIdentification: 0x83, // DEVICE IDENTIFICATION (SPC-4 §7.8.6)
  ThirdPartyCopy: 0x8f, // THIRD-PARTY COPY (SPC-4 §7.8.17)
  BlockLimits: 0xb0, // BLOCK LIMITS (SBC-3 §6.6.3)
  BlockDeviceCharacteristics: 0xb1, // BLOCK DEVICE CHARACTERISTICS (SBC-3 §6.6.2)
  LogicalBlockProvisioning: 0xb2, // LOGICAL BLOCK PROVISIONING (SBC-3 §6.6.4)
} as const;

const SUPPORTED = [0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2] as const;

/** T10 vendor identification (8 ASCII bytes). */
export const VENDOR = 'SHORTHRN';
/** Product identification (16 ASCII bytes). */
export const PRODUCT = 'Shorthorn volume';
/** Product revision level (4 ASCII bytes). */
export const REVISION = '0001';

/** Version descriptors claimed in standard INQUIRY (SPC-4 table 148). */
const VERSION_DESCRIPTORS = [
  0x00a0, // SAM-5 (no version claimed)
  0x0960, // iSCSI (no version claimed)
  0x0460, // SPC-4 (no version claimed)
  0x04c0, // SBC-3 (no version claimed)
] as const;

/** Derives the unit's serial number and designators from the volume name (stable across restarts). */
export function deriveIdentity(volume: string): UnitIdentity {
  const h = createHash('sha256').update(`shorthorn-volume:${volume}`).digest();
  // NAA 3h (locally assigned, SPC-4 §7.8.6.6.4): 4-bit NAA, then 60 bits from the hash.
  const naa = Buffer.from(h.subarray(0, 8));
  naa[0] = 0x30 | ((naa[0] ?? 0) & 0x0f);
  // EUI-64 (SPC-4 §7.8.6.5): a 24-bit company id field, here the hash with the locally-administered bit.
  const eui64 = Buffer.from(h.subarray(8, 16));
  eui64[0] = ((eui64[0] ?? 0) & 0xfc) | 0x02;
  return { volume, serial: h.subarray(16, 28).toString('hex'), naa, eui64 };
}

function ascii(s: string, width: number): Buffer {
  return Buffer.from(s.padEnd(width, ' ').slice(0, width), 'ascii');
}

/** Standard INQUIRY data, 96 bytes (SPC-4 table 142). */
export function standardInquiry(): Buffer {
  const b = Buffer.alloc(96);
  b[0] = 0x00; // PERIPHERAL QUALIFIER 000b, DEVICE TYPE 00h (direct access block device)
  b[1] = 0x00; // RMB 0: not removable
  b[2] = 0x06; // VERSION: SPC-4
  b[3] = 0x12; // HISUP 1, RESPONSE DATA FORMAT 2
  b[4] = b.length - 5; // ADDITIONAL LENGTH
  b[5] = 0x08; // SCCS 0, ACC 0, TPGS 00b (no ALUA), 3PC 1 (EXTENDED COPY), PROTECT 0
  b[6] = 0x00;
  b[7] = 0x02; // CMDQUE 1
  ascii(VENDOR, 8).copy(b, 8);
  ascii(PRODUCT, 16).copy(b, 16);
  ascii(REVISION, 4).copy(b, 32);
  VERSION_DESCRIPTORS.forEach((v, i) => b.writeUInt16BE(v, 58 + 2 * i));
  return b;
}

/** INQUIRY data for a LUN that does not exist: PERIPHERAL QUALIFIER 011b, type 1Fh (SPC-4 §6.6.2). */
export function absentLunInquiry(): Buffer {
  const b = standardInquiry();
  b[0] = 0x7f;
  return b;
}

function page(code: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[1] = code;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** One designation descriptor (SPC-4 table 459). */
function designator(opts: { codeSet: number; association: number; type: number; value: Buffer; protocol?: number }): Buffer {
  const head = Buffer.alloc(4);
  const piv = opts.protocol !== undefined;
  head[0] = ((opts.protocol ?? 0) << 4) | opts.codeSet;
  head[1] = (piv ? 0x80 : 0) | (opts.association << 4) | opts.type;
  head[3] = opts.value.length;
  return Buffer.concat([head, opts.value]);
}

const CodeSet = { Binary: 1, Ascii: 2, Utf8: 3 } as const;
const Association = { LogicalUnit: 0, TargetPort: 1, TargetDevice: 2 } as const;
const DesignatorType = { T10Vendor: 1, Eui64: 2, Naa: 3, RelativeTargetPort: 4, TargetPortGroup: 5, ScsiName: 8 } as const;
const ISCSI_PROTOCOL = 0x5; // PROTOCOL IDENTIFIER for iSCSI (SPC-4 table 362)

function scsiName(name: string): Buffer {
  // SCSI name strings are null-terminated and padded to a multiple of 4 bytes.
  const raw = Buffer.from(name, 'utf8');
  return Buffer.concat([raw, Buffer.alloc(4 - (raw.length % 4))]);
}

/** The VPD page, or undefined when the page is not supported. */
export function vpdPage(code: number, identity: UnitIdentity, nexus: Nexus, targetName: string): Buffer | undefined {
  switch (code) {
    case VpdPage.SupportedPages:
      return page(code, Buffer.from(SUPPORTED));
    case VpdPage.UnitSerialNumber:
      return page(code, Buffer.from(identity.serial, 'ascii'));
    case VpdPage.DeviceIdentification: {
      const port = Buffer.alloc(4);
      port.writeUInt16BE(1, 2); // relative target port 1: the one portal
      const group = Buffer.alloc(4);
      group.writeUInt16BE(nexus.targetPortGroup & 0xffff, 2);
      return page(code, Buffer.concat([
        designator({ codeSet: CodeSet.Binary, association: Association.LogicalUnit, type: DesignatorType.Naa, value: identity.naa }),
        designator({ codeSet: CodeSet.Binary, association: Association.LogicalUnit, type: DesignatorType.Eui64, value: identity.eui64 }),
        designator({ codeSet: CodeSet.Ascii, association: Association.LogicalUnit, type: DesignatorType.T10Vendor, value: Buffer.concat([ascii(VENDOR, 8), Buffer.from(identity.serial, 'ascii')]) }),
        designator({ codeSet: CodeSet.Binary, association: Association.TargetPort, type: DesignatorType.RelativeTargetPort, value: port, protocol: ISCSI_PROTOCOL }),
        designator({ codeSet: CodeSet.Binary, association: Association.TargetPort, type: DesignatorType.TargetPortGroup, value: group, protocol: ISCSI_PROTOCOL }),
        designator({ codeSet: CodeSet.Utf8, association: Association.TargetDevice, type: DesignatorType.ScsiName, value: scsiName(targetName), protocol: ISCSI_PROTOCOL }),
      ]));
    }
    case VpdPage.ThirdPartyCopy:
      return page(code, thirdPartyCopyPage());
    case VpdPage.BlockLimits:
      return page(code, blockLimits());
    case VpdPage.BlockDeviceCharacteristics: {
      const b = Buffer.alloc(0x3c);
      b.writeUInt16BE(0x0001, 0); // MEDIUM ROTATION RATE 0001h: non-rotating medium
      return page(code, b);
    }
    case VpdPage.LogicalBlockProvisioning: {
      const b = Buffer.alloc(4);
      b[0] = 0; // THRESHOLD EXPONENT: no thresholds
      b[1] = 0x80 | 0x40 | 0x20 | 0x04; // LBPU, LBPWS, LBPWS10, LBPRZ (unmapped blocks read as zeros)
      b[2] = 0x02; // PROVISIONING TYPE 010b: thin provisioned
      return page(code, b);
    }
    default:
      return undefined;
  }
}

/** BLOCK LIMITS body (SBC-4 table 217 offsets minus the 4-byte header). */
function blockLimits(): Buffer {
  const b = Buffer.alloc(0x3c);
  b[0] = 0x00; // WSNZ 0: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 runs to the last LBA
  b[1] = MAX_COMPARE_AND_WRITE_BLOCKS; // MAXIMUM COMPARE AND WRITE LENGTH
  b.writeUInt16BE(1 << PHYSICAL_BLOCK_EXPONENT, 2); // OPTIMAL TRANSFER LENGTH GRANULARITY
  b.writeUInt32BE(MAX_TRANSFER_BLOCKS, 4); // MAXIMUM TRANSFER LENGTH
  b.writeUInt32BE(OPTIMAL_TRANSFER_BLOCKS, 8); // OPTIMAL TRANSFER LENGTH
  b.writeUInt32BE(MAX_TRANSFER_BLOCKS, 12); // MAXIMUM PREFETCH LENGTH
  b.writeUInt32BE(MAX_UNMAP_BLOCKS, 16); // MAXIMUM UNMAP LBA COUNT
  b.writeUInt32BE(MAX_UNMAP_DESCRIPTORS, 20); // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
  b.writeUInt32BE(1 << PHYSICAL_BLOCK_EXPONENT, 24); // OPTIMAL UNMAP GRANULARITY
  b.writeUInt32BE(0x80000000, 28); // UGAVALID 1, UNMAP GRANULARITY ALIGNMENT 0
  b.writeBigUInt64BE(BigInt(MAX_WRITE_SAME_BLOCKS), 32); // MAXIMUM WRITE SAME LENGTH
  b.writeUInt32BE(MAX_ATOMIC_BLOCKS, 40); // MAXIMUM ATOMIC TRANSFER LENGTH
  b.writeUInt32BE(1, 44); // ATOMIC ALIGNMENT
  b.writeUInt32BE(1, 48); // ATOMIC TRANSFER LENGTH GRANULARITY
  b.writeUInt32BE(0, 52); // MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY: boundaries not supported
  b.writeUInt32BE(0, 56); // MAXIMUM ATOMIC BOUNDARY SIZE
  return b;
}
