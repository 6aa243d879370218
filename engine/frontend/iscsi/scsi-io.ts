import * as E from 'fp-ts/Either';
import { decodeDataOut, decodeScsiCommand } from './pdu/decode.ts';
import { encodeDataIn, encodeR2t, encodeScsiResponse, encodeSenseSegment } from './pdu/encode.ts';
import type { Frame } from './pdu/frame-decoder.ts';
import { dataLengthOf, opcodeOf } from './pdu/bhs.ts';
import { NO_TAG, Opcode, RejectReason } from './pdu/opcodes.ts';
import { ScsiStatus, type Nexus, type ScsiCommand, type ScsiResult } from './scsi/logical-unit.ts';
import type { Connection } from './connection.ts';
import type { Session } from './session.ts';
import { ScsiTask } from './task.ts';

/**
 * SCSI traffic of a full-feature connection: SCSI Command (immediate data), Data-Out
 * (unsolicited and R2T-solicited), running the task in the logical unit and answering with
 * Data-In (phase-collapsed status when there is no sense) and SCSI Response (RFC 7143 §4.2.3,
 * §11.3–11.8).
 */

/** The largest write we buffer for one command; larger ones are refused with sense. */
export const MAX_WRITE_BYTES = 64 * 1024 * 1024;
/** Write data a session may hold at once (buffers of commands not yet answered). */
export const WRITE_BUDGET_BYTES = 256 * 1024 * 1024;

/** Fixed-format sense ILLEGAL REQUEST / INVALID FIELD IN CDB (SPC-4 §4.5.3), for writes we cannot take. */
const SENSE_INVALID_FIELD = (() => {
  const b = Buffer.alloc(18);
  b[0] = 0x70; // current error, fixed format
  b[2] = 0x05; // ILLEGAL REQUEST
  b[7] = 10; // additional sense length
  b[12] = 0x24; // INVALID FIELD IN CDB
  return b;
})();

/** A SCSI Command PDU arrived. */
export function handleScsiCommand(conn: Connection, frame: Frame): void {
  const session = conn.session;
  if (session === undefined) return;
  const d = decodeScsiCommand(frame.bhs, frame.ahs);
  if (E.isLeft(d)) return conn.reject(frame.bhs, d.left.reason);
  const pdu = d.right;
  const p = session.params;
  const imm = frame.data.length;
  if (imm > 0 && (!pdu.write || !p.immediateData || imm > p.firstBurstLength)) return conn.reject(frame.bhs, RejectReason.ProtocolError);
  if (session.tasks.has(pdu.itt)) return conn.reject(frame.bhs, RejectReason.TaskInProgress);
  const verdict = session.admit(pdu.cmdSn, pdu.immediate);
  if (verdict === 'drop') {
    // RFC 7143 §4.2.2.1: a non-immediate command outside the window is silently ignored.
    conn.log.debug('command outside the CmdSN window ignored', { cmdSn: pdu.cmdSn, expCmdSn: session.expCmdSn });
    return;
  }
  // Unsolicited data ends at FirstBurstLength when InitialR2T=No, else with the immediate data.
  const unsolicitedEnd = pdu.final ? imm : p.initialR2T ? imm : Math.min(p.firstBurstLength, pdu.expectedLength);
  const pool = conn.target.writeBuffers;
  const task = new ScsiTask(pdu, unsolicitedEnd, pool === undefined ? undefined : (n) => pool.take(n));
  if (pdu.write && pdu.expectedLength > MAX_WRITE_BYTES) {
    task.delivered = true;
    task.unsolicitedOpen = false;
    session.tasks.set(task.itt, task);
    return sendResult(conn, task, { status: ScsiStatus.CheckCondition, sense: SENSE_INVALID_FIELD });
  }
  if (pdu.write && session.writeBytes + pdu.expectedLength > WRITE_BUDGET_BYTES) {
    // Memory backpressure: write buffers are allocated when the command arrives, so past the
    // budget the command is answered TASK SET FULL (SAM-5 §5.3) and the initiator retries later.
    task.delivered = true;
    task.unsolicitedOpen = false;
    session.tasks.set(task.itt, task);
    return sendResult(conn, task, { status: ScsiStatus.TaskSetFull });
  }
  if (pdu.write) {
    session.writeBytes += pdu.expectedLength;
    task.heldBytes = pdu.expectedLength;
  }
  if (imm > 0) frame.data.copy(task.dataOut, 0, 0, Math.min(imm, task.expectedLength));
  task.setImmediateLength(Math.min(imm, task.expectedLength));
  // With InitialR2T=Yes no unsolicited Data-Out may follow (RFC 7143 §13.10).
  if (p.initialR2T) task.unsolicitedOpen = false;
  session.tasks.set(task.itt, task);
  if (verdict === 'later') {
    session.hold(pdu.cmdSn, () => deliver(conn, task));
  } else {
    deliver(conn, task);
    session.runHeld();
  }
  sendR2ts(conn, task);
}

function deliver(conn: Connection, task: ScsiTask): void {
  // Aborted while it waited for its CmdSN turn: it never enters the task set.
  if (task.aborted) return;
  task.delivered = true;
  // The task set decides when it may run (task attributes, see task-set.ts); it also needs its data.
  const enabled = conn.target.taskSet.enter(task, () => {
    if (task.dataComplete) start(conn, task);
  });
  if (enabled && task.dataComplete) start(conn, task);
}

function sendR2ts(conn: Connection, task: ScsiTask): void {
  const session = conn.session;
  if (session === undefined || !task.write || task.aborted) return;
  const p = session.params;
  const planned = task.planR2ts(p.maxOutstandingR2T, p.maxBurstLength, () => session.nextTtt());
  for (const r of planned) {
    conn.send(encodeR2t({ ...conn.sn(false), itt: task.itt, lun: task.lun, ttt: r.ttt, r2tSn: task.r2tSn++, bufferOffset: r.offset, desiredLength: r.length }));
  }
}

/**
 * Where a large Data-Out's data segment may be received straight to (FrameDecoder.placer): its
 * task's buffer at the PDU's Buffer Offset, when the task is still receiving and the range fits.
 * Nothing reads that range before the PDU is accepted: a task runs only once all its data has been
 * accepted, and a Data-Out that is refused (out of sequence, bad digest) aborts or starves the task.
 */
export function placeDataOut(conn: Connection, bhs: Buffer): Buffer | undefined {
  if (opcodeOf(bhs) !== Opcode.DataOut) return undefined;
  const task = conn.session?.tasks.get(bhs.readUInt32BE(16));
  if (task === undefined || task.state !== 'receiving' || !task.write) return undefined;
  const offset = bhs.readUInt32BE(40);
  const length = dataLengthOf(bhs);
  if (offset + length > task.dataOut.length) return undefined;
  return task.dataOut.subarray(offset, offset + length);
}

/** A Data-Out PDU arrived. */
export function handleDataOut(conn: Connection, frame: Frame): void {
  const session = conn.session;
  if (session === undefined) return;
  const d = decodeDataOut(frame.bhs);
  const task = session.tasks.get(d.itt);
  if (task === undefined || task.state !== 'receiving') {
    // Data for a task that was aborted (or never was): discard it (RFC 7143 §4.2.3.4).
    if (task === undefined) conn.log.debug('Data-Out for an unknown task', { itt: d.itt });
    return;
  }
  if (!task.write) return conn.reject(frame.bhs, RejectReason.ProtocolError);
  const fault = task.acceptDataOut(d.ttt, d.dataSn, d.bufferOffset, frame.data.length, d.final);
  if (fault !== undefined) {
    // RFC 7143 §7.12 / §11.17: Reject the PDU and drop it. At ErrorRecoveryLevel 0 the task cannot
    // get its data again, so it is dropped too (its later Data-Out is discarded) and the initiator
    // fails it on the Reject or its own timeout; the connection and the other tasks carry on.
    conn.log.warn('Data-Out out of sequence', { fault, itt: d.itt, ttt: d.ttt, dataSn: d.dataSn, offset: d.bufferOffset });
    conn.reject(frame.bhs, RejectReason.ProtocolError);
    abortTask(conn, task, []);
    return;
  }
  // Placed by placeDataOut: the data is already where it belongs.
  const placed = frame.data.buffer === task.dataOut.buffer && frame.data.byteOffset === task.dataOut.byteOffset + d.bufferOffset;
  if (!placed) frame.data.copy(task.dataOut, d.bufferOffset);
  if (!d.final) return;
  sendR2ts(conn, task);
  if (task.taskSetState === 'enabled' && task.dataComplete) start(conn, task);
}

function start(conn: Connection, task: ScsiTask): void {
  if (task.state !== 'receiving') return;
  const session = conn.session;
  if (session === undefined) return;
  task.state = 'running';
  task.finished = run(conn, task);
}

async function run(conn: Connection, task: ScsiTask): Promise<void> {
  const session = conn.session;
  if (session === undefined) return;
  let result: ScsiResult;
  try {
    result = await conn.target.lu.execute(new TaskCommand(session.nexus, task));
  } catch (e) {
    conn.log.error('logical unit failed a command', { error: e, opcode: task.cdb[0] });
    result = { status: ScsiStatus.CheckCondition, sense: SENSE_HARDWARE_ERROR };
  }
  // The unit is done with the data-out (execute settles only after its handler did).
  if (task.write) conn.target.writeBuffers?.give(task.dataOut);
  task.state = 'done';
  if (session.tasks.get(task.itt) === task) session.tasks.delete(task.itt);
  releaseBytes(session, task);
  if (!task.aborted && conn.state !== 'closed') sendResult(conn, task, result);
  else result.release?.();
  // After the answer: the tasks it held back (an ORDERED one behind it) start now.
  conn.target.taskSet.leave(task);
}

/** The ScsiCommand view of a task; `signal` stays lazy (see ScsiTask.signal). */
class TaskCommand implements ScsiCommand {
  readonly lun: number;
  readonly cdb: Buffer;
  readonly dataOut: Buffer;
  readonly expectedInLength: number;
  readonly taskAttribute: number;

  constructor(
    readonly nexus: Nexus,
    private readonly task: ScsiTask,
  ) {
    this.lun = task.lun;
    this.cdb = task.cdb;
    this.dataOut = task.dataOut;
    this.expectedInLength = task.read ? task.expectedLength : 0;
    this.taskAttribute = task.attr;
  }

  get signal(): AbortSignal {
    return this.task.signal;
  }
}

/** HARDWARE ERROR / INTERNAL TARGET FAILURE (SPC-4): the unit threw instead of answering. */
const SENSE_HARDWARE_ERROR = (() => {
  const b = Buffer.alloc(18);
  b[0] = 0x70;
  b[2] = 0x04; // HARDWARE ERROR
  b[7] = 10;
  b[12] = 0x44; // INTERNAL TARGET FAILURE
  return b;
})();

function releaseBytes(session: Session, task: ScsiTask): void {
  session.writeBytes -= task.heldBytes;
  task.heldBytes = 0;
}

/** Sends the outcome of a task: Data-In PDUs and/or a SCSI Response. */
export function sendResult(conn: Connection, task: ScsiTask, r: ScsiResult): void {
  const session = conn.session;
  if (session === undefined) return;
  if (session.tasks.get(task.itt) === task) session.tasks.delete(task.itt);
  releaseBytes(session, task);
  const data = r.dataIn;
  const have = data === undefined ? 0 : data.length;
  const want = task.read ? task.expectedLength : 0;
  const sendLen = Math.min(have, want);
  let overflow = have > want ? have - want : 0;
  let underflow = task.read && have < want ? want - have : 0;
  if (task.write && !task.read && r.dataOutLength !== undefined) {
    // Write residuals (RFC 7143 §11.4.5): what the CDB called for against the Expected Data Transfer Length.
    overflow = r.dataOutLength > task.expectedLength ? r.dataOutLength - task.expectedLength : 0;
    underflow = r.dataOutLength < task.expectedLength ? task.expectedLength - r.dataOutLength : 0;
  }
  const sense = r.sense;
  const collapse = sense === undefined || sense.length === 0;
  let dataSn = 0;
  // The pooled read buffer goes back once the socket has taken its last Data-In (write callback).
  if (r.release !== undefined && !(sendLen > 0 && data !== undefined)) r.release();
  if (sendLen > 0 && data !== undefined) {
    const p = session.params;
    const seg = p.initiatorMaxRecv;
    const burst = p.maxBurstLength;
    conn.cork();
    for (let off = 0; off < sendLen; ) {
      const n = Math.min(seg, sendLen - off, burst - (off % burst));
      const last = off + n >= sendLen;
      const endOfBurst = last || (off + n) % burst === 0;
      const withStatus = last && collapse;
      const header = encodeDataIn({
        itt: task.itt,
        lun: task.lun,
        final: endOfBurst,
        dataLength: n,
        dataSn: dataSn++,
        bufferOffset: off,
        statSn: withStatus ? conn.takeStatSn() : 0,
        expCmdSn: session.expCmdSn,
        maxCmdSn: session.currentMaxCmdSn,
        status: withStatus ? r.status : undefined,
        overflow,
        underflow,
      });
      conn.send(header, data.subarray(off, off + n), last ? r.release : undefined);
      off += n;
    }
    conn.uncork();
    if (collapse) return;
  }
  const senseSegment = sense !== undefined && sense.length > 0 ? encodeSenseSegment(sense) : undefined;
  const header = encodeScsiResponse({
    statSn: conn.takeStatSn(),
    expCmdSn: session.expCmdSn,
    maxCmdSn: session.currentMaxCmdSn,
    itt: task.itt,
    status: r.status,
    dataLength: senseSegment?.length ?? 0,
    expDataSn: dataSn,
    overflow,
    underflow,
  });
  conn.send(header, senseSegment);
}

/** Aborts the tasks of a connection's session on `lun` (all LUNs when undefined); resolves when the unit let go of them. */
export async function abortSessionTasks(conn: Connection, lun: number | undefined): Promise<void> {
  const session = conn.session;
  if (session === undefined) return;
  const waits: Promise<void>[] = [];
  for (const task of [...session.tasks.values()]) {
    if (lun !== undefined && task.lun !== lun) continue;
    abortTask(conn, task, waits);
  }
  await Promise.all(waits);
}

/** Aborts one task: no response will be sent for it (RFC 7143 §4.2.3.3). */
export function abortTask(conn: Connection, task: ScsiTask, waits: Promise<void>[]): void {
  const session = conn.session;
  task.abortNow();
  if (session !== undefined) releaseBytes(session, task);
  if (task.finished !== undefined) waits.push(task.finished);
  else {
    // Never ran: it leaves the task set now (a running one leaves when the unit lets go of it).
    task.state = 'done';
    conn.target.taskSet.leave(task);
  }
  if (session !== undefined && session.tasks.get(task.itt) === task && task.finished === undefined) session.tasks.delete(task.itt);
}
