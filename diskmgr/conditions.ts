import type { Condition } from '../api/codecs/meta.ts';
import type { DiskCapacity } from './capacity.ts';
import type { DiskIdentity } from './identity.ts';
import type { ProbeResult } from './health.ts';

/** Condition types and reasons the disk manager writes (Longhorn's names where it has one). */
export const DiskCondition = { Ready: 'Ready', Schedulable: 'Schedulable' } as const;
/** The reasons of the disk conditions. */
export const DiskReason = {
  Ready: 'DiskReady',
  Unhealthy: 'DiskUnhealthy',
  FilesystemChanged: 'DiskFilesystemChanged',
  Pressure: 'DiskPressure',
  NotReady: 'DiskNotReady',
  Schedulable: 'DiskSchedulable',
} as const;

/** Everything observed of one disk in one pass. `capacity` is absent when statfs failed. */
export interface DiskObservation {
  readonly identity: DiskIdentity;
  readonly capacity: DiskCapacity | undefined;
  readonly probe: ProbeResult;
}

/** Is the disk usable, and if not, why (reason and message for the Ready condition)? */
export function diskReadiness(o: DiskObservation): { readonly ready: boolean; readonly reason: string; readonly message: string } {
  if (o.identity._tag === 'Changed') return { ready: false, reason: DiskReason.FilesystemChanged, message: o.identity.message };
  if (o.identity._tag === 'Unreadable') return { ready: false, reason: DiskReason.Unhealthy, message: o.identity.message };
  if (!o.probe.ok) return { ready: false, reason: DiskReason.Unhealthy, message: o.probe.message };
  if (o.capacity === undefined) return { ready: false, reason: DiskReason.Unhealthy, message: 'statfs failed' };
  return { ready: true, reason: DiskReason.Ready, message: '' };
}

/** Keeps lastTransitionTime when a condition's status did not change. */
export function withTransition(next: Condition, previous: readonly Condition[] | undefined, now: string): Condition {
  const prev = previous?.find((c) => c.type === next.type);
  const lastTransitionTime = prev !== undefined && prev.status === next.status && prev.lastTransitionTime !== undefined ? prev.lastTransitionTime : now;
  return { ...next, lastTransitionTime };
}

/**
 * The Ready and Schedulable conditions of a disk. Schedulable is False with DiskPressure when
 * available < maximum × minimalAvailablePercent / 100 (Longhorn's storage-minimal-available-percentage).
 */
export function diskConditions(o: DiskObservation, minimalAvailablePercent: number, previous: readonly Condition[] | undefined, now: string): Condition[] {
  const r = diskReadiness(o);
  const ready: Condition = { type: DiskCondition.Ready, status: r.ready ? 'True' : 'False', reason: r.reason, message: r.message };
  let sched: Condition;
  if (!r.ready) sched = { type: DiskCondition.Schedulable, status: 'False', reason: DiskReason.NotReady, message: `the disk is not ready: ${r.message}` };
  else if (isUnderPressure(o.capacity as DiskCapacity, minimalAvailablePercent)) {
    const c = o.capacity as DiskCapacity;
    sched = { type: DiskCondition.Schedulable, status: 'False', reason: DiskReason.Pressure, message: `available ${c.availableBytes} bytes is below ${minimalAvailablePercent}% of maximum ${c.maximumBytes} bytes` };
  } else sched = { type: DiskCondition.Schedulable, status: 'True', reason: DiskReason.Schedulable, message: '' };
  return [withTransition(ready, previous, now), withTransition(sched, previous, now)];
}

/** Is free space below the minimal-available percentage of the maximum? */
export function isUnderPressure(c: DiskCapacity, minimalAvailablePercent: number): boolean {
  return c.availableBytes * 100 < c.maximumBytes * minimalAvailablePercent;
}

/** The node's own conditions: Ready while its agent reports, Schedulable unless scheduling is disabled. */
export function nodeConditions(allowScheduling: boolean, previous: readonly Condition[] | undefined, now: string): Condition[] {
  const ready: Condition = { type: 'Ready', status: 'True', reason: 'AgentReporting', message: '' };
  const sched: Condition = allowScheduling
    ? { type: 'Schedulable', status: 'True', reason: 'SchedulingAllowed', message: '' }
    : { type: 'Schedulable', status: 'False', reason: 'SchedulingDisabled', message: 'spec.allowScheduling is false (cordoned)' };
  return [withTransition(ready, previous, now), withTransition(sched, previous, now)];
}
