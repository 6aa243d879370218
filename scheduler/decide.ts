import * as E from 'fp-ts/Either';
import type { Volume } from '../api/codecs/volume.ts';
import type { Settings } from '../api/settings.ts';
import type { PlacementView, ReplicaInfo } from './graph/types.ts';
import { isActiveReplica, placeReplicas, type Pick, type Unschedulable } from './placement/place.ts';
import { REASON_CODES } from './placement/reasons.ts';
import { balanceMove, leastSpreadLoss } from './placement/trim.ts';

/** The one step a reconcile pass takes for a volume (level-based: the next pass sees its effect). */
export type Step =
  | { readonly kind: 'create'; readonly picks: readonly Pick[] }
  | { readonly kind: 'reuse'; readonly replica: string; readonly why: string }
  | { readonly kind: 'delete'; readonly replica: string; readonly why: string }
  | { readonly kind: 'evict'; readonly replica: string; readonly why: string }
  | { readonly kind: 'wait'; readonly why: string }
  | { readonly kind: 'none' };

/** The Volume's `Scheduled` condition as the pass sees it. */
export interface ScheduledCondition {
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

/** A pass's decision: the step, the condition, and when to look again (failed replicas waiting out their timeout). */
export interface Decision {
  readonly step: Step;
  readonly scheduled: ScheduledCondition;
  readonly retryAfterMs?: number;
}

const SCHEDULED: ScheduledCondition = { status: 'True', reason: 'ReplicasScheduled', message: '' };

/** Healthy = the replica's process runs and the engine has it in RW mode (docs/placement.md, "health contract"). */
export function isHealthy(volume: Volume, r: ReplicaInfo): boolean {
  return r.running && volume.status?.replicaModes?.[r.name] === 'RW';
}

/** The condition for a placement that could not place everything: the most frequent reason code names it. */
export function unschedulableCondition(u: Unschedulable): ScheduledCondition {
  let reason: string = 'ReplicaSchedulingFailure';
  let most = 0;
  for (const code of REASON_CODES) {
    const n = u.reasons.get(code) ?? 0;
    if (n > most) {
      most = n;
      reason = code;
    }
  }
  return { status: 'False', reason, message: u.message };
}

function diskIsBack(view: PlacementView, r: ReplicaInfo): boolean {
  const d = view.disk(r.nodeID, r.diskID);
  if (d === undefined) return false;
  const n = d.node;
  return n.ready && n.schedulable && !n.evictionRequested && d.ready && d.schedulable && !d.evictionRequested;
}

function byName(a: ReplicaInfo, b: ReplicaInfo): number {
  return a.name < b.name ? -1 : 1;
}

/**
 * Decides the next step for one volume from the graph (which already holds the replicas this
 * controller just created). In order: reuse a failed replica whose disk is back; create missing
 * replicas (failed ones still inside staleReplicaTimeout hold their place); remove stale failed
 * replicas once replaced; remove an evicted replica once enough healthy replicas exist; remove an
 * excess replica; auto-balance. Eviction replacements are made one at a time. `noReuse` names
 * failed replicas not to reuse again (the controller's memory of recent reuses that failed anew,
 * so it and the engine never ping-pong failedAt). Pure.
 */
export function decide(view: PlacementView, volume: Volume, settings: Settings, nowMs: number, opts: { readonly noReuse?: ReadonlySet<string> } = {}): Decision {
  const count = volume.spec.numberOfReplicas;
  const reps = view.replicasOf(volume.metadata.name).filter((r) => !r.deleting);
  const failed = reps.filter((r) => r.failed).sort(byName);
  const serving = reps.filter((r) => !r.failed && isActiveReplica(view, r));
  const evicting = reps.filter((r) => !r.failed && !isActiveReplica(view, r)).sort(byName);
  const hardNode = volume.spec.replicaSoftAntiAffinity === 'disabled' || (volume.spec.replicaSoftAntiAffinity !== 'enabled' && !settings['replica-soft-anti-affinity']);

  if (serving.length < count) {
    const back = failed.find((f) => !(opts.noReuse?.has(f.name) ?? false) && diskIsBack(view, f) && !(hardNode && serving.some((s) => s.nodeID === f.nodeID)));
    if (back !== undefined) return { step: { kind: 'reuse', replica: back.name, why: `its disk ${back.nodeID}/${back.diskID} is back` }, scheduled: SCHEDULED };
  }

  const staleMs = (volume.spec.staleReplicaTimeout ?? settings['stale-replica-timeout']) * 60_000;
  const waiting = failed.filter((f) => nowMs - f.failedAtMs < staleMs);
  const stale = failed.filter((f) => !waiting.includes(f));
  const retry = waiting.length === 0 ? undefined : Math.max(1, Math.min(...waiting.map((f) => staleMs - (nowMs - f.failedAtMs))));
  const withRetry = (d: Omit<Decision, 'retryAfterMs'>): Decision => (retry === undefined ? d : { ...d, retryAfterMs: retry });

  let missing = count - serving.length - waiting.length;
  if (missing > 0) {
    const evictionOnly = evicting.length > 0 && serving.length + waiting.length + evicting.length >= count;
    if (evictionOnly) {
      // One at a time: wait until the previous replacement is healthy before starting the next.
      const rebuilding = serving.find((r) => !isHealthy(volume, r));
      if (rebuilding !== undefined) return withRetry({ step: { kind: 'wait', why: `replica ${rebuilding.name} is not healthy yet` }, scheduled: SCHEDULED });
      missing = 1;
    }
    const r = placeReplicas(view, volume, settings, missing, { existing: [...serving, ...waiting] });
    const picks = E.isRight(r) ? r.right.picks : r.left.placed;
    const scheduled = E.isRight(r) ? SCHEDULED : unschedulableCondition(r.left);
    if (picks.length > 0) return withRetry({ step: { kind: 'create', picks }, scheduled });
    return withRetry({ step: { kind: 'wait', why: 'unschedulable' }, scheduled });
  }

  if (stale.length > 0) {
    const s = stale[0] as ReplicaInfo;
    return withRetry({ step: { kind: 'delete', replica: s.name, why: `failed longer than staleReplicaTimeout and replaced` }, scheduled: SCHEDULED });
  }

  if (evicting.length > 0) {
    const healthy = serving.filter((r) => isHealthy(volume, r)).length;
    const e = evicting[0] as ReplicaInfo;
    if (healthy >= count) return withRetry({ step: { kind: 'delete', replica: e.name, why: `evicted from ${e.nodeID}/${e.diskID}; ${healthy} healthy replicas remain` }, scheduled: SCHEDULED });
    return withRetry({ step: { kind: 'wait', why: `eviction of ${e.name} waits for ${count} healthy replicas (${healthy} now)` }, scheduled: SCHEDULED });
  }

  if (serving.length + waiting.length > count) {
    const victim = waiting[0] ?? serving.filter((r) => !isHealthy(volume, r)).sort(byName)[0] ?? leastSpreadLoss(view, serving);
    if (victim !== undefined) return withRetry({ step: { kind: 'delete', replica: victim.name, why: `numberOfReplicas is ${count}: removing the replica whose loss costs least spread` }, scheduled: SCHEDULED });
  }

  // Moves only from a steady state: every replica healthy, none failed (a move is an eviction, which needs healthy replicas to finish).
  if (failed.length === 0 && serving.every((r) => isHealthy(volume, r))) {
    const move = balanceMove(view, volume, settings, serving);
    if (move !== undefined) return { step: { kind: 'evict', replica: move.replica.name, why: move.why }, scheduled: SCHEDULED };
  }
  return withRetry({ step: { kind: 'none' }, scheduled: SCHEDULED });
}
