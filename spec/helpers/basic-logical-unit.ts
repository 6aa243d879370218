import type { BlockDevice } from '../../engine/block-device.ts';
import { ScsiStatus, type LogicalUnit, type ScsiCommand, type ScsiResult } from '../../engine/frontend/iscsi/scsi/logical-unit.ts';

/**
 * A tiny LogicalUnit for protocol tests: TEST UNIT READY, INQUIRY (standard data and VPD 00/80/83),
 * READ CAPACITY (10/16), READ/WRITE (10/16), SYNCHRONIZE CACHE, REPORT LUNS, MODE SENSE (6) with no
 * pages. Enough for libiscsi and QEMU to log in and do I/O; the real unit is the SCSI layer's.
 */
export class BasicLogicalUnit implements LogicalUnit {
  readonly queueDepth: number;
  readonly executed: number[] = [];
  readonly managed: string[] = [];

  constructor(
    readonly device: BlockDevice,
    opts: { queueDepth?: number } = {},
  ) {
    this.queueDepth = opts.queueDepth ?? 64;
  }

  async execute(cmd: ScsiCommand): Promise<ScsiResult> {
    const cdb = cmd.cdb;
    const op = cdb[0] as number;
    this.executed.push(op);
    const bs = this.device.blockSizeBytes;
    switch (op) {
      case 0x00: // TEST UNIT READY
        return GOOD;
      case 0x12: { // INQUIRY
        if (((cdb[1] as number) & 1) === 1) return this.vpd(cdb[2] as number);
        const b = Buffer.alloc(36);
        b[2] = 0x06; b[3] = 0x02; b[4] = 31; b[7] = 0x02;
        b.write('SHORTHRN', 8, 'ascii');
        b.write('BASIC TEST UNIT ', 16, 'ascii');
        b.write('0001', 32, 'ascii');
        return { status: ScsiStatus.Good, dataIn: b };
      }
      case 0x25: { // READ CAPACITY (10)
        const b = Buffer.alloc(8);
        b.writeUInt32BE(Math.min(0xffffffff, this.device.sizeBytes / bs - 1), 0);
        b.writeUInt32BE(bs, 4);
        return { status: ScsiStatus.Good, dataIn: b };
      }
      case 0x9e: { // SERVICE ACTION IN (16) / READ CAPACITY (16)
        if (((cdb[1] as number) & 0x1f) !== 0x10) return illegal();
        const b = Buffer.alloc(32);
        b.writeBigUInt64BE(BigInt(this.device.sizeBytes / bs - 1), 0);
        b.writeUInt32BE(bs, 8);
        return { status: ScsiStatus.Good, dataIn: b.subarray(0, Math.min(32, cdb.readUInt32BE(10))) };
      }
      case 0xa0: { // REPORT LUNS
        const b = Buffer.alloc(16);
        b.writeUInt32BE(8, 0);
        return { status: ScsiStatus.Good, dataIn: b };
      }
      case 0x1a: { // MODE SENSE (6): header only
        const b = Buffer.from([3, 0, 0, 0]);
        return { status: ScsiStatus.Good, dataIn: b };
      }
      case 0x35: case 0x91: // SYNCHRONIZE CACHE (10/16)
        await this.device.flush();
        return GOOD;
      case 0x28: case 0x88: case 0x2a: case 0x8a: {
        const sixteen = op === 0x88 || op === 0x8a;
        const lba = sixteen ? Number(cdb.readBigUInt64BE(2)) : cdb.readUInt32BE(2);
        const blocks = sixteen ? cdb.readUInt32BE(10) : cdb.readUInt16BE(7);
        if ((lba + blocks) * bs > this.device.sizeBytes) return { status: ScsiStatus.CheckCondition, sense: sense(0x05, 0x21) };
        if (op === 0x28 || op === 0x88) return { status: ScsiStatus.Good, dataIn: blocks === 0 ? Buffer.alloc(0) : await this.device.readAt(lba * bs, blocks * bs) };
        if (cmd.dataOut.length < blocks * bs) return { status: ScsiStatus.CheckCondition, sense: sense(0x05, 0x24) };
        if (blocks > 0) await this.device.writeAt(lba * bs, cmd.dataOut.subarray(0, blocks * bs));
        return GOOD;
      }
      default:
        return illegal();
    }
  }

  private vpd(page: number): ScsiResult {
    const body = page === 0x00 ? Buffer.from([0x00, 0x80, 0x83]) : page === 0x80 ? Buffer.from('SN0001', 'ascii') : page === 0x83 ? Buffer.from([0x01, 0x03, 0x00, 0x08, 0x60, 0, 0, 0, 0, 0, 0, 1]) : undefined;
    if (body === undefined) return illegal();
    const b = Buffer.alloc(4 + body.length);
    b[1] = page;
    b.writeUInt16BE(body.length, 2);
    body.copy(b, 4);
    return { status: ScsiStatus.Good, dataIn: b };
  }

  taskManagement(fn: string): void {
    this.managed.push(fn);
  }

  nexusGone(): void {}
}

const GOOD: ScsiResult = { status: ScsiStatus.Good };

function sense(key: number, asc: number): Buffer {
  const b = Buffer.alloc(18);
  b[0] = 0x70; b[2] = key; b[7] = 10; b[12] = asc;
  return b;
}

function illegal(): ScsiResult {
  return { status: ScsiStatus.CheckCondition, sense: sense(0x05, 0x20) };
}
