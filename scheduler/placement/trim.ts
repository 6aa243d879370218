import * as E from 'fp-ts/Either';
import type { Volume } from '../../api/codecs/volume.ts';
import type { Settings } from '../../api/settings.ts';
import type { PlacementView, ReplicaInfo } from '../graph/types.ts';
import { addToSpread, emptySpread } from './filter.ts';
import { placeReplicas, type Pick, type ReplicaRef } from './place.ts';

/** Distinct (zones, racks, nodes, disks) a set of replica locations covers. */
export type SpreadVector = readonly [number, number, number, number];

/** The spread vector of replica locations (those on unknown nodes are left out). */
export function spreadVector(view: PlacementView, refs: readonly ReplicaRef[]): SpreadVector {
  const s = emptySpread();
  for (const r of refs) {
    const n = view.node(r.nodeID);
    if (n !== undefined) addToSpread(s, n, `${r.nodeID}/${r.diskID}`);
  }
  return [s.zones.size, s.racks.size, s.nodes.size, s.disks.size];
}

/** Compares spread vectors lexicographically (zones first). */
export function compareSpread(a: SpreadVector, b: SpreadVector): number {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/**
 * The replica whose removal costs the least spread: the one leaving the best spread behind; among
 * equals the one on the most used disk (it frees the fullest), then the last by name. Pure.
 */
export function leastSpreadLoss(view: PlacementView, replicas: readonly ReplicaInfo[]): ReplicaInfo | undefined {
  let best: { r: ReplicaInfo; v: SpreadVector; usage: number } | undefined;
  for (const r of replicas) {
    const v = spreadVector(view, replicas.filter((x) => x !== r));
    const usage = view.disk(r.nodeID, r.diskID)?.usage ?? Infinity;
    const c = best === undefined ? 1 : compareSpread(v, best.v) || usage - best.usage || (r.name > best.r.name ? 1 : -1);
    if (c > 0) best = { r, v, usage };
  }
  return best?.r;
}

/** Replicas (of all volumes) held by a node's disks. */
export function replicasOnNode(view: PlacementView, nodeName: string): number {
  let n = 0;
  for (const d of view.node(nodeName)?.disks ?? []) n += d.replicas.size;
  return n;
}

/** A move auto-balance or data locality asks for: the replica to evict and where its replacement would go. */
export interface Move {
  readonly replica: ReplicaInfo;
  readonly to: Pick;
  readonly why: string;
}

/**
 * Replica auto-balance (Longhorn's replica-auto-balance): 'least-effort' moves one replica when
 * the volume's spread (zones, racks, nodes, disks) can grow, as when nodes join; 'best-effort'
 * also moves one when the spread stays the same and the target node holds at least two replicas
 * fewer than the source, which evens replica counts across nodes. Best-effort data locality asks
 * for a move when no replica is on the attach node. Pure; answers at most one move.
 */
export function balanceMove(view: PlacementView, volume: Volume, settings: Settings, serving: readonly ReplicaInfo[]): Move | undefined {
  const attach = volume.spec.nodeID;
  if (volume.spec.dataLocality === 'best-effort' && attach !== undefined && attach !== '' && view.node(attach) !== undefined && !serving.some((r) => r.nodeID === attach) && serving.length > 0) {
    const victim = leastSpreadLoss(view, serving) as ReplicaInfo;
    const r = placeReplicas(view, volume, settings, 1, { existing: serving.filter((x) => x !== victim), attachNode: attach });
    if (E.isRight(r) && r.right.picks[0]?.node === attach) return { replica: victim, to: r.right.picks[0], why: `best-effort data locality: a replica on the attach node ${attach}` };
  }
  const override = volume.spec.replicaAutoBalance;
  const mode = override === undefined || override === 'ignored' ? settings['replica-auto-balance'] : override;
  if (mode === 'disabled' || serving.length === 0) return undefined;
  const victim = leastSpreadLoss(view, serving) as ReplicaInfo;
  const rest = serving.filter((x) => x !== victim);
  const r = placeReplicas(view, volume, settings, 1, { existing: rest, attachNode: attach ?? '' });
  if (E.isLeft(r)) return undefined;
  const to = r.right.picks[0] as Pick;
  if (to.node === victim.nodeID && to.disk === victim.diskID) return undefined;
  const before = spreadVector(view, serving);
  const after = spreadVector(view, [...rest, { nodeID: to.node, diskID: to.disk }]);
  const c = compareSpread(after, before);
  if (c > 0) return { replica: victim, to, why: `${mode} auto-balance: spread ${before.join('/')} → ${after.join('/')} (zones/racks/nodes/disks)` };
  if (c === 0 && mode === 'best-effort' && to.node !== victim.nodeID && replicasOnNode(view, victim.nodeID) - replicasOnNode(view, to.node) >= 2) {
    return { replica: victim, to, why: `best-effort auto-balance: ${victim.nodeID} holds ${replicasOnNode(view, victim.nodeID)} replicas, ${to.node} ${replicasOnNode(view, to.node)}` };
  }
  return undefined;
}
