import * as E from 'fp-ts/Either';
import { decodeLogoutRequest, decodeNopOut, decodeTextRequest, decodeTmfRequest } from './pdu/decode.ts';
import { encodeLogoutResponse, encodeNopIn, encodeTextResponse, encodeTmfResponse } from './pdu/encode.ts';
import type { Frame } from './pdu/frame-decoder.ts';
import { LogoutReason, LogoutResponse, NO_TAG, RejectReason, TmfFunction, TmfResponse } from './pdu/opcodes.ts';
import { decodeTextPairs, encodeTextPairs, type TextPair } from './pdu/text.ts';
import type { TaskManagement } from './scsi/logical-unit.ts';
import type { Connection } from './connection.ts';
import { abortTask } from './scsi-io.ts';
import { snInWindow, snLess } from './sequence.ts';

/**
 * Non-SCSI requests of full feature phase: NOP-Out (RFC 7143 §11.18), Task Management (§11.5),
 * Text with SendTargets (§11.10, §13.3 / appendix C), Logout (§11.14) and SNACK (§11.16, refused at
 * ErrorRecoveryLevel 0).
 */

/** Runs `fn` in CmdSN order (or at once when immediate); false when the command is dropped. */
function inOrder(conn: Connection, cmdSn: number, immediate: boolean, fn: () => void): void {
  const session = conn.session;
  if (session === undefined) return;
  const v = session.admit(cmdSn, immediate);
  if (v === 'drop') return;
  if (v === 'later') return session.hold(cmdSn, fn);
  fn();
  session.runHeld();
}

/** NOP-Out: a ping (answer with NOP-In) or the answer to our ping. */
export function handleNopOut(conn: Connection, frame: Frame): void {
  const n = decodeNopOut(frame.bhs);
  if (n.itt === NO_TAG) {
    // RFC 7143 §11.18: ITT 0xffffffff is an answer to a NOP-In; it must be immediate and gets no answer.
    if (n.ttt !== NO_TAG && !conn.pingAnswered(n.ttt)) conn.log.debug('NOP-Out answers no ping', { ttt: n.ttt });
    return;
  }
  if (n.ttt !== NO_TAG) return conn.reject(frame.bhs, RejectReason.InvalidPduField);
  const echo = Buffer.from(frame.data);
  inOrder(conn, n.cmdSn, n.immediate, () => {
    conn.send(encodeNopIn({ ...conn.sn(true), itt: n.itt, ttt: NO_TAG, lun: n.lun, dataLength: echo.length }), echo);
  });
}

const UNIT_FUNCTIONS: Readonly<Record<number, TaskManagement>> = {
  [TmfFunction.AbortTaskSet]: 'abort-task-set',
  [TmfFunction.ClearTaskSet]: 'clear-task-set',
  [TmfFunction.LogicalUnitReset]: 'lun-reset',
  [TmfFunction.TargetWarmReset]: 'target-warm-reset',
  [TmfFunction.TargetColdReset]: 'target-cold-reset',
};

/** Task Management Function Request. */
export function handleTmf(conn: Connection, frame: Frame): void {
  const d = decodeTmfRequest(frame.bhs);
  if (E.isLeft(d)) return conn.reject(frame.bhs, d.left.reason);
  const t = d.right;
  inOrder(conn, t.cmdSn, t.immediate, () => void runTmf(conn, t).then((response) => {
    if (conn.state === 'closed') return;
    conn.send(encodeTmfResponse({ ...conn.sn(true), itt: t.itt, response }));
    if (t.fn === TmfFunction.TargetColdReset) conn.endAfterFlush();
  }));
}

async function runTmf(conn: Connection, t: { fn: number; lun: number; cmdSn: number; referencedTaskTag: number; refCmdSn: number }): Promise<number> {
  const session = conn.session;
  if (session === undefined) return TmfResponse.Rejected;
  const lu = conn.target.lu;
  // Shorthorn targets have LUN 0 only (RFC 7143 §11.6.1: "LUN does not exist").
  const lunScoped = t.fn === TmfFunction.AbortTask || t.fn === TmfFunction.AbortTaskSet || t.fn === TmfFunction.ClearTaskSet || t.fn === TmfFunction.LogicalUnitReset || t.fn === TmfFunction.ClearAca;
  if (lunScoped && t.lun !== 0) return TmfResponse.LunDoesNotExist;
  switch (t.fn) {
    case TmfFunction.AbortTask: {
      const task = session.tasks.get(t.referencedTaskTag);
      if (task === undefined) {
        // RFC 7143 §11.6.1: a task the target does not hold, whose RefCmdSN lies in the CmdSN window
        // and before the TMF's own CmdSN, has not arrived yet: it counts as received (and aborted), so
        // the command is dropped if it comes and later ones are not held up by its gap. Outside the
        // window (below ExpCmdSN: the command ran and its response is sent) the task does not exist.
        if (snInWindow(t.refCmdSn, session.expCmdSn, session.currentMaxCmdSn) && snLess(t.refCmdSn, t.cmdSn)) {
          session.consumeCmdSn(t.refCmdSn);
          return TmfResponse.FunctionComplete;
        }
        return TmfResponse.TaskDoesNotExist;
      }
      const waits: Promise<void>[] = [];
      abortTask(conn, task, waits);
      await Promise.all(waits);
      return TmfResponse.FunctionComplete;
    }
    case TmfFunction.AbortTaskSet:
    case TmfFunction.ClearTaskSet:
    case TmfFunction.LogicalUnitReset:
    case TmfFunction.TargetWarmReset:
    case TmfFunction.TargetColdReset: {
      const fn = UNIT_FUNCTIONS[t.fn] as TaskManagement;
      const lun = t.fn === TmfFunction.TargetWarmReset || t.fn === TmfFunction.TargetColdReset ? undefined : t.lun;
      const waits: Promise<void>[] = [conn.abortTasks(lun)];
      // CLEAR TASK SET and the resets reach every I_T nexus (SAM-5 §7); ABORT TASK SET only this one.
      if (t.fn !== TmfFunction.AbortTaskSet) {
        for (const owner of conn.target.owners()) if (owner !== conn) waits.push(owner.abortTasks(lun));
      }
      await Promise.all(waits);
      lu.taskManagement(fn, session.nexus);
      if (t.fn === TmfFunction.TargetColdReset) {
        for (const owner of conn.target.owners()) if (owner !== conn) owner.close('target cold reset');
      }
      return TmfResponse.FunctionComplete;
    }
    case TmfFunction.ClearAca:
    case TmfFunction.TaskReassign:
      // No ACA (NACA is never accepted) and ErrorRecoveryLevel 0 (no reassignment).
      return t.fn === TmfFunction.TaskReassign ? TmfResponse.ReassignmentNotSupported : TmfResponse.NotSupported;
    default:
      return TmfResponse.Rejected;
  }
}

/** Text Request: SendTargets (RFC 7143 appendix C); other keys are NotUnderstood. */
export function handleText(conn: Connection, frame: Frame): void {
  const d = decodeTextRequest(frame.bhs);
  if (E.isLeft(d)) return conn.reject(frame.bhs, d.left.reason);
  const t = d.right;
  // We never split a Text Response, so a continued request (C=1) or a TTT we never gave out is refused.
  if (t.cont || t.ttt !== NO_TAG) return conn.reject(frame.bhs, RejectReason.CommandNotSupported);
  const pairs = decodeTextPairs(frame.data);
  if (E.isLeft(pairs)) return conn.reject(frame.bhs, RejectReason.ProtocolError);
  inOrder(conn, t.cmdSn, t.immediate, () => {
    const answer: TextPair[] = [];
    for (const [k, v] of pairs.right) {
      if (k === 'SendTargets') {
        const discovery = conn.session?.type === 'Discovery';
        const mine = v === 'All' || v === conn.target.iqn || (v === '' && !discovery);
        if (mine) answer.push(['TargetName', conn.target.iqn], ['TargetAddress', `${portalAddress(conn)},${conn.target.portalGroupTag}`]);
      } else {
        answer.push([k, 'NotUnderstood']);
      }
    }
    const data = encodeTextPairs(answer);
    conn.send(encodeTextResponse({ ...conn.sn(true), itt: t.itt, lun: t.lun, final: true, ttt: NO_TAG, dataLength: data.length }), data);
  });
}

function portalAddress(conn: Connection): string {
  const host = conn.socket.localAddress ?? '127.0.0.1';
  const h = host.startsWith('::ffff:') ? host.slice(7) : host;
  return `${h.includes(':') ? `[${h}]` : h}:${conn.socket.localPort}`;
}

/** Logout Request: answer once the session's running tasks are done, then close. */
export function handleLogout(conn: Connection, frame: Frame): void {
  const d = decodeLogoutRequest(frame.bhs);
  if (E.isLeft(d)) return conn.reject(frame.bhs, d.left.reason);
  const l = d.right;
  inOrder(conn, l.cmdSn, l.immediate, () => {
    const session = conn.session;
    if (session === undefined) return;
    if (l.reason === LogoutReason.RemoveForRecovery) {
      // ErrorRecoveryLevel 0: no connection recovery (RFC 7143 §11.15.1, response 2).
      conn.send(encodeLogoutResponse({ ...conn.sn(true), itt: l.itt, response: LogoutResponse.RecoveryNotSupported, time2Wait: 0, time2Retain: 0 }));
      return;
    }
    if (l.reason === LogoutReason.CloseConnection && l.cid !== conn.cid) {
      conn.send(encodeLogoutResponse({ ...conn.sn(true), itt: l.itt, response: LogoutResponse.CidNotFound, time2Wait: 0, time2Retain: 0 }));
      return;
    }
    conn.enterLogout();
    const running = [...session.tasks.values()].map((t) => t.finished).filter((p): p is Promise<void> => p !== undefined);
    // Tasks still waiting for Data-Out will never get it now.
    for (const t of [...session.tasks.values()]) if (t.finished === undefined) session.tasks.delete(t.itt);
    void Promise.all(running).then(() => {
      if (conn.state === 'closed') return;
      conn.send(encodeLogoutResponse({ ...conn.sn(true), itt: l.itt, response: LogoutResponse.Closed, time2Wait: 0, time2Retain: 0 }));
      conn.endAfterFlush();
    });
  });
}

/** SNACK: not supported at ErrorRecoveryLevel 0 (RFC 7143 §11.16, Reject reason SNACK Reject). */
export function handleSnack(conn: Connection, frame: Frame): void {
  conn.reject(frame.bhs, RejectReason.SnackReject);
}
