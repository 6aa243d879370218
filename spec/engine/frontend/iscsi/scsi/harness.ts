/** Test harness for the SCSI layer: a logical unit on a MemoryDevice, CDB builders and sense readers. */
import { createLogger } from '../../../../../api/log.ts';
import { createBlockLogicalUnit } from '../../../../../engine/frontend/iscsi/scsi/index.ts';
import type { LogicalUnit, Nexus, ScsiResult } from '../../../../../engine/frontend/iscsi/scsi/logical-unit.ts';
import { MemoryDevice, type MemoryDeviceOptions } from '../../../../helpers/memory-device.ts';

/** Two initiator ports, as two sessions would present them. */
export const A: Nexus = { initiatorPort: 'iqn.2026-11.test:a,i,0x400000000001', targetPortGroup: 1 };
export const B: Nexus = { initiatorPort: 'iqn.2026-11.test:b,i,0x400000000002', targetPortGroup: 1 };

/** A unit with its device, and a `run` that sends one CDB. */
export interface Rig {
  readonly device: MemoryDevice;
  readonly lu: LogicalUnit;
  run(cdb: Buffer | number[], opts?: { nexus?: Nexus; dataOut?: Buffer; lun?: number; signal?: AbortSignal }): Promise<ScsiResult>;
}

/** Builds a rig; by default it clears the power-on unit attention of A and B first. */
export async function rig(opts: { sizeBytes?: number; device?: MemoryDeviceOptions; keepUa?: boolean } = {}): Promise<Rig> {
  const device = new MemoryDevice(opts.sizeBytes ?? 1 << 20, opts.device);
  const lu = createBlockLogicalUnit({ device, volume: 'vol-1', log: createLogger('test', { sink: () => {} }) });
  const run: Rig['run'] = (cdb, o = {}) =>
    lu.execute({
      nexus: o.nexus ?? A,
      lun: o.lun ?? 0,
      cdb: Buffer.isBuffer(cdb) ? cdb : Buffer.from(cdb),
      dataOut: o.dataOut ?? Buffer.alloc(0),
      expectedInLength: 1 << 20,
      taskAttribute: 1,
      signal: o.signal ?? new AbortController().signal,
    });
  if (opts.keepUa !== true) {
    await run(tur());
    await run(tur(), { nexus: B });
  }
  return { device, lu, run };
}

/** Sense key, ASC and ASCQ of a result, as "key/asc/ascq" hex ("-" when no sense). */
export function senseOf(r: ScsiResult): string {
  const s = r.sense;
  if (s === undefined) return '-';
  const h = (n: number | undefined) => (n ?? 0).toString(16).padStart(2, '0');
  return `${h((s[2] ?? 0) & 0x0f)}/${h(s[12])}/${h(s[13])}`;
}

/** TEST UNIT READY. */
export function tur(): Buffer {
  return Buffer.alloc(6);
}

/** A 10-, 12- or 16-byte block CDB: opcode, flags byte, LBA and length at the standard offsets. */
export function blockCdb(opcode: number, lba: number | bigint, blocks: number, flags = 0): Buffer {
  const group = opcode >> 5;
  if (group === 0) {
    const b = Buffer.alloc(6);
    b[0] = opcode;
    b.writeUIntBE(Number(lba) & 0x1fffff, 1, 3);
    b[4] = blocks & 0xff;
    return b;
  }
  if (group === 1 || group === 2) {
    const b = Buffer.alloc(10);
    b[0] = opcode;
    b[1] = flags;
    b.writeUInt32BE(Number(BigInt(lba) & 0xffffffffn), 2);
    b.writeUInt16BE(blocks, 7);
    return b;
  }
  if (group === 5) {
    const b = Buffer.alloc(12);
    b[0] = opcode;
    b[1] = flags;
    b.writeUInt32BE(Number(BigInt(lba) & 0xffffffffn), 2);
    b.writeUInt32BE(blocks, 6);
    return b;
  }
  const b = Buffer.alloc(16);
  b[0] = opcode;
  b[1] = flags;
  b.writeBigUInt64BE(BigInt(lba), 2);
  if (opcode === 0x89) b[13] = blocks;
  else b.writeUInt32BE(blocks, 10);
  return b;
}

/** A CDB of `length` bytes from leading bytes. */
export function cdb(length: number, ...bytes: number[]): Buffer {
  const b = Buffer.alloc(length);
  bytes.forEach((x, i) => (b[i] = x));
  return b;
}

/** `n` blocks of 512 bytes filled with `byte`. */
export function blocksOf(n: number, byte: number): Buffer {
  return Buffer.alloc(n * 512, byte);
}
