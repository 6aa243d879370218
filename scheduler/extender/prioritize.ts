import type { Settings } from '../../api/settings.ts';
import { isHealthy } from '../decide.ts';
import type { NodeInfo, PlacementView } from '../graph/types.ts';
import { isActiveReplica } from '../placement/place.ts';
import { MAX_EXTENDER_PRIORITY, type HostPriority } from './codecs.ts';
import type { ExtenderDeps } from './deps.ts';
import type { PodShorthornVolume } from './resolver.ts';
import { volumeFromClass } from './storage-class.ts';

/**
 * Scores, documented here and in docs/extender.md:
 *
 *   locality(node, r) = 10 same node as replica r, 6 same rack, 3 same zone, 0 otherwise
 *   weight(r)         = 1 when r is healthy (running, RW in the engine), 0.5 when degraded or rebuilding
 *   s_v(node)         = max over v's live replicas r of locality(node, r) × weight(r)
 *                       an unbound volume with best-effort or strict-local locality: 10 × free(node);
 *                       any other volume without replicas: 0
 *   free(node)        = the free fraction of the schedulable limit of the node's emptiest usable disk (0..1)
 *   pressure(node)    = min(1, 0.5 + 2 × free(node)): full weight down to 25 % free, half weight when full
 *   raw(node)         = round(Σ_v s_v(node) × pressure(node) / number of volumes), in 0..10
 *   score(node)       = raw(node) − min over the candidate nodes of raw, in 0..10
 *
 * The offset: kube-scheduler adds an extender's score (× weight) to each node's total, so a score
 * every candidate shares changes no ranking. Taking it off keeps the order and the gaps and lets
 * the common case drop out of the answer: when each zone holds a replica, every node has the zone
 * score, and 5,000 candidates would otherwise all be listed.
 *
 * Unlike Stork's unscaled 100/50/25 the score stays within MaxExtenderPriority, so the scheduler's
 * weight decides how much it counts against its own plugins. Hosts scoring 0 are left out of the
 * answer: kube-scheduler adds an extender's score per listed host and nothing for the others, and
 * 5,000 zero entries would cost more to write and read than the scoring itself. A pod without
 * Shorthorn volumes gets an empty list, which is 0 everywhere.
 */
export const LOCALITY_SCORE = { node: 10, rack: 6, zone: 3 } as const;

/** Weight of a replica that is live but not healthy (degraded, rebuilding). */
export const UNHEALTHY_WEIGHT = 0.5;

/** The over-provisioning factor free space is measured against (0 or less: no node has free space). */
function overProvisioning(settings: Settings): number {
  return settings['storage-over-provisioning-percentage'] / 100;
}

function freeFraction(p: number, n: NodeInfo | undefined): number {
  if (n === undefined || n.minUsage === Infinity || p <= 0) return 0;
  return Math.max(0, Math.min(1, 1 - n.minUsage / p));
}

/**
 * One volume's best replica weight per node, rack and zone. Nodes are keyed by their NodeInfo
 * (identity), racks and zones by the graph's own strings: one name lookup per candidate, then
 * cheap lookups, because 5,000 candidates per call are the common case.
 */
interface VolumeTable {
  readonly byNode: Map<NodeInfo, number>;
  readonly byRack: Map<string, number>;
  readonly byZone: Map<string, number>;
  /** Unbound best-effort/strict-local volumes score the node's free space instead. */
  readonly byFreeSpace: boolean;
}

function raise<K>(m: Map<K, number>, k: K, v: number): void {
  if ((m.get(k) ?? 0) < v) m.set(k, v);
}

function tableFor(deps: ExtenderDeps, settings: Settings, graph: PlacementView, v: PodShorthornVolume): VolumeTable {
  const t: VolumeTable = { byNode: new Map(), byRack: new Map(), byZone: new Map(), byFreeSpace: false };
  if (v._tag === 'Unbound') {
    const vol = volumeFromClass(v.claim, v.sizeBytes, v.parameters, settings);
    return { ...t, byFreeSpace: vol.spec.dataLocality !== 'disabled' };
  }
  const volume = deps.volume(v.volumeName);
  for (const r of graph.replicasOf(v.volumeName)) {
    if (!isActiveReplica(graph, r)) continue;
    const n = graph.node(r.nodeID);
    if (n === undefined) continue;
    const w = volume !== undefined && isHealthy(volume, r) ? 1 : UNHEALTHY_WEIGHT;
    raise(t.byNode, n, w * LOCALITY_SCORE.node);
    raise(t.byRack, n.rackKey, w * LOCALITY_SCORE.rack);
    raise(t.byZone, n.zone, w * LOCALITY_SCORE.zone);
  }
  return t;
}

/** Σ_v s_v for a node that holds none of the volumes' replicas: the same for its whole rack. */
function rackSum(tables: readonly VolumeTable[], p: number, n: NodeInfo): number {
  let sum = 0;
  for (const t of tables) sum += t.byFreeSpace ? MAX_EXTENDER_PRIORITY * freeFraction(p, n) : Math.max(t.byRack.get(n.rackKey) ?? 0, t.byZone.get(n.zone) ?? 0);
  return sum;
}

/** Σ_v s_v for a node holding a replica of one of the volumes. */
function holderSum(tables: readonly VolumeTable[], p: number, n: NodeInfo): number {
  let sum = 0;
  for (const t of tables) sum += t.byFreeSpace ? MAX_EXTENDER_PRIORITY * freeFraction(p, n) : Math.max(t.byNode.get(n) ?? 0, t.byRack.get(n.rackKey) ?? 0, t.byZone.get(n.zone) ?? 0);
  return sum;
}

/**
 * Scores the candidate nodes 0..10 for the pod's Shorthorn volumes (see the formula above); hosts
 * scoring 0 are left out.
 *
 * NOTE: two passes over the candidates: raw scores into an array of numbers, then entries only for the
 * hosts above the lowest. 5,000 candidates per call are the common case and most of them share the
 * lowest score, so no per-candidate object is built for them.
 */
export function prioritizeNodes(deps: ExtenderDeps, names: readonly string[], vols: readonly PodShorthornVolume[]): HostPriority[] {
  if (vols.length === 0 || names.length === 0) return [];
  const settings = deps.settings();
  const p = overProvisioning(settings);
  const tables = vols.map((v) => tableFor(deps, settings, deps.graph, v));
  const holders = new Set<NodeInfo>();
  for (const t of tables) for (const n of t.byNode.keys()) holders.add(n);
  const anyFree = tables.some((t) => t.byFreeSpace);
  const perRack = new Map<string, number>();
  // Raw scores, integers 0..10, by candidate; a candidate missing from the graph scores 0. A plain
  // array of small integers, sized once: a typed array would cost an ArrayBuffer per call for the GC
  // to sweep, and growing by push would copy it several times.
  const raw = new Array<number>(names.length);
  let lowest = MAX_EXTENDER_PRIORITY;
  for (let i = 0; i < names.length; i++) {
    const n = deps.graph.node(names[i] as string);
    if (n === undefined) {
      raw[i] = 0;
      lowest = 0;
      continue;
    }
    let sum: number;
    if (holders.has(n)) sum = holderSum(tables, p, n);
    else if (anyFree) sum = rackSum(tables, p, n);
    else {
      const cached = perRack.get(n.rackKey);
      sum = cached ?? rackSum(tables, p, n);
      if (cached === undefined) perRack.set(n.rackKey, sum);
    }
    if (sum === 0) {
      raw[i] = 0;
      lowest = 0;
      continue;
    }
    const pressure = Math.min(1, 0.5 + 2 * freeFraction(p, n));
    const score = Math.max(0, Math.min(MAX_EXTENDER_PRIORITY, Math.round((sum * pressure) / vols.length)));
    raw[i] = score;
    if (score < lowest) lowest = score;
  }
  const out: HostPriority[] = [];
  for (let i = 0; i < names.length; i++) {
    const score = raw[i] as number;
    if (score > lowest) out.push({ Host: names[i] as string, Score: score - lowest });
  }
  return out;
}
