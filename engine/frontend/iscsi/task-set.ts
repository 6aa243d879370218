/**
 * The logical unit's task set and its task attributes (SAM-5 §8.5, §8.6). INQUIRY says CMDQUE 1
 * (the full task management model) and the Control mode page says TST 000b (one task set shared by
 * every I_T nexus), so this lives on the target, not the session:
 *
 * - SIMPLE (and ACA, never in an ACA condition here: NACA is refused) is enabled once every older
 *   ORDERED and HEAD OF QUEUE task has completed;
 * - ORDERED is enabled once every older task has completed, and blocks the newer ones until it does;
 * - HEAD OF QUEUE is enabled at once, ahead of everything waiting, and newer tasks wait for it.
 *
 * Tasks enter in the order the target receives them (CmdSN order within a session). A task that
 * is enabled may still be waiting for its Data-Out; it runs when both hold. With SIMPLE tasks only
 * (what initiators send) entering and leaving are two counter updates.
 */

/** Task attributes of the SCSI Command PDU (RFC 7143 §11.3.1, ATTR field). */
export const TaskAttribute = { Untagged: 0, Simple: 1, Ordered: 2, HeadOfQueue: 3, Aca: 4 } as const;

/** What the task set tracks of a task. */
export interface TaskSetMember {
  readonly attr: number;
  /** Where the task is in the set: outside, waiting to be enabled, or enabled (until it leaves). */
  taskSetState: 'out' | 'waiting' | 'enabled';
}

/** One task set; `onEnabled` is called once for every task that becomes enabled after waiting. */
export class TaskSet {
  /** Enabled and not yet left, of any attribute. */
  private enabled = 0;
  /** Enabled ORDERED and HEAD OF QUEUE tasks not yet left. */
  private barriers = 0;
  /** Tasks not yet enabled, oldest first. */
  private readonly waiting: Array<{ task: TaskSetMember; enable: () => void }> = [];

  /**
   * A task enters the set; returns true when it is enabled at once, otherwise `enable` is called
   * when its turn comes (unless it leaves first).
   */
  enter(task: TaskSetMember, enable: () => void): boolean {
    const attr = task.attr;
    const runnable = attr === TaskAttribute.HeadOfQueue || (this.waiting.length === 0 && (attr === TaskAttribute.Ordered ? this.enabled === 0 : this.barriers === 0));
    if (runnable) {
      this.admit(task);
      return true;
    }
    task.taskSetState = 'waiting';
    this.waiting.push({ task, enable });
    return false;
  }

  /** A task completed or was aborted: it leaves the set and the tasks it held back may go. */
  leave(task: TaskSetMember): void {
    if (task.taskSetState === 'out') return;
    if (task.taskSetState === 'waiting') {
      const i = this.waiting.findIndex((w) => w.task === task);
      if (i >= 0) this.waiting.splice(i, 1);
    } else {
      this.enabled--;
      if (isBarrier(task.attr)) this.barriers--;
    }
    task.taskSetState = 'out';
    if (this.waiting.length > 0) this.drain();
  }

  /** Tasks waiting to be enabled (tests, status). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  private admit(task: TaskSetMember): void {
    task.taskSetState = 'enabled';
    this.enabled++;
    if (isBarrier(task.attr)) this.barriers++;
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const head = this.waiting[0] as { task: TaskSetMember; enable: () => void };
      const attr = head.task.attr;
      const ok = attr === TaskAttribute.HeadOfQueue || (attr === TaskAttribute.Ordered ? this.enabled === 0 : this.barriers === 0);
      if (!ok) return;
      this.waiting.shift();
      this.admit(head.task);
      head.enable();
    }
  }
}

function isBarrier(attr: number): boolean {
  return attr === TaskAttribute.Ordered || attr === TaskAttribute.HeadOfQueue;
}
