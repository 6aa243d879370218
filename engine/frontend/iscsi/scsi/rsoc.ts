/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35) and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
 * (SPC-4 §6.36), answered from the command table.
 */
import type { ScsiResult } from './logical-unit.ts';
import { decodeRsoc, readLength } from './cdb.ts';
import { good, invalidFieldInCdb } from './sense.ts';

/** The parts of a command-table entry RSOC reports. */
export interface SupportedCommand {
  readonly opcode: number;
  readonly serviceAction?: number;
  readonly usage: string;
}

/** REPORTING OPTIONS values (SPC-4 table 254). */
const ReportingOptions = { All: 0, OneOpcode: 1, OneServiceAction: 2, OneEither: 3 } as const;
/** Command timeouts descriptor: 12 bytes, no timeouts advertised (0 = not specified). */
const TIMEOUTS_DESCRIPTOR_BYTES = 12;

function usageOf(c: SupportedCommand): Buffer {
  return Buffer.from(c.usage.replace(/\s+/g, ''), 'hex');
}

function timeouts(): Buffer {
  const t = Buffer.alloc(TIMEOUTS_DESCRIPTOR_BYTES);
  t.writeUInt16BE(0x000a, 0); // DESCRIPTOR LENGTH
  return t;
}

function truncate(b: Buffer, alloc: number): Buffer {
  return b.length > alloc ? b.subarray(0, alloc) : b;
}

/** Answers REPORT SUPPORTED OPERATION CODES from a command table. */
export function answerSupportedOperationCodes(cdb: Buffer, table: readonly SupportedCommand[], withServiceActions: ReadonlySet<number>): ScsiResult {
  const { rctd, options, opcode, serviceAction: sa, allocationLength: alloc } = decodeRsoc(cdb);
  if (options === ReportingOptions.All) {
    const descriptors = table.map((c) => {
      const d = Buffer.alloc(8);
      d[0] = c.opcode;
      d.writeUInt16BE(c.serviceAction ?? 0, 2);
      d[5] = (rctd ? 0x02 : 0) | (c.serviceAction !== undefined ? 0x01 : 0); // CTDP, SERVACTV
      d.writeUInt16BE(usageOf(c).length, 6); // CDB LENGTH
      return rctd ? Buffer.concat([d, timeouts()]) : d;
    });
    const body = Buffer.concat(descriptors);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0); // COMMAND DATA LENGTH
    return good(truncate(Buffer.concat([head, body]), alloc));
  }
  const hasSa = withServiceActions.has(opcode);
  if (options === ReportingOptions.OneOpcode && hasSa) return invalidFieldInCdb(3);
  if (options === ReportingOptions.OneServiceAction && !hasSa) return invalidFieldInCdb(3);
  if (options > ReportingOptions.OneEither) return invalidFieldInCdb(2, 2);
  const found = table.find((c) => c.opcode === opcode && (!hasSa || c.serviceAction === sa));
  const usage = found !== undefined ? usageOf(found) : Buffer.alloc(0);
  const head = Buffer.alloc(4);
  head[1] = (rctd && found !== undefined ? 0x80 : 0) | (found !== undefined ? 0x03 : 0x01); // CTDP | SUPPORT (011b supported, 001b not)
  head.writeUInt16BE(usage.length, 2); // CDB SIZE
  const parts = [head, usage];
  if (rctd && found !== undefined) parts.push(timeouts());
  return good(truncate(Buffer.concat(parts), alloc));
}

/** Answers REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (with REPD, the 16-byte extended format). */
export function answerSupportedTaskManagementFunctions(cdb: Buffer): ScsiResult {
  const repd = ((cdb[2] ?? 0) & 0x80) !== 0;
  const alloc = readLength(cdb, 6, 4);
  if (alloc < 4) return invalidFieldInCdb(6);
  const b = Buffer.alloc(repd ? 16 : 4);
  b[0] = 0x80 | 0x40 | 0x10 | 0x08 | 0x02; // ATS, ATSS, CTSS, LURS, TRS (ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LU RESET, TARGET RESET)
  if (repd) b[3] = 0x0c; // ADDITIONAL DATA LENGTH
  return good(truncate(b, alloc));
}
