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
 *   score(node)       = round(Σ_v s_v(node) × pressure(node) / number of volumes), in 0..10
 *
 * Unlike Stork's unscaled 100/50/25 the score stays within MaxExtenderPriority, so the scheduler's
 * weight decides how much it counts against its own plugins. A pod without Shorthorn volumes scores 0.
 */
export const LOCALITY_SCORE = { node: 10, rack: 6, zone: 3 } as const;

/** Weight of a replica that is live but not healthy (degraded, rebuilding). */
export const UNHEALTHY_WEIGHT = 0.5;

function freeFraction(settings: Settings, n: NodeInfo | undefined): number {
  if (n === undefined || n.minUsage === Infinity) return 0;
  const p = settings['storage-over-provisioning-percentage'] / 100;
  if (p <= 0) return 0;
  return Math.max(0, Math.min(1, 1 - n.minUsage / p));
}

interface ReplicaPlace {
  readonly node: string;
  readonly rack: string;
  readonly zone: string;
  readonly weight: number;
}

type VolumeScorer = (n: NodeInfo | undefined, name: string) => number;

function scorerFor(deps: ExtenderDeps, settings: Settings, graph: PlacementView, v: PodShorthornVolume): VolumeScorer {
  if (v._tag === 'Unbound') {
    const vol = volumeFromClass(v.claim, v.sizeBytes, v.parameters, settings);
    if (vol.spec.dataLocality === 'disabled') return () => 0;
    return (n) => MAX_EXTENDER_PRIORITY * freeFraction(settings, n);
  }
  const volume = deps.volume(v.volumeName);
  const places: ReplicaPlace[] = [];
  for (const r of graph.replicasOf(v.volumeName)) {
    if (!isActiveReplica(graph, r)) continue;
    const n = graph.node(r.nodeID);
    if (n === undefined) continue;
    places.push({ node: n.name, rack: `${n.zone}/${n.rack}`, zone: n.zone, weight: volume !== undefined && isHealthy(volume, r) ? 1 : UNHEALTHY_WEIGHT });
  }
  if (places.length === 0) return () => 0;
  return (n, name) => {
    let best = 0;
    for (const p of places) {
      const loc = p.node === name ? LOCALITY_SCORE.node : n === undefined ? 0 : p.rack === `${n.zone}/${n.rack}` ? LOCALITY_SCORE.rack : p.zone === n.zone ? LOCALITY_SCORE.zone : 0;
      const s = loc * p.weight;
      if (s > best) best = s;
    }
    return best;
  };
}

/** Scores every candidate node 0..10 for the pod's Shorthorn volumes (see the formula above). */
export function prioritizeNodes(deps: ExtenderDeps, names: readonly string[], vols: readonly PodShorthornVolume[]): HostPriority[] {
  if (vols.length === 0) return names.map((Host) => ({ Host, Score: 0 }));
  const settings = deps.settings();
  const scorers = vols.map((v) => scorerFor(deps, settings, deps.graph, v));
  return names.map((Host) => {
    const n = deps.graph.node(Host);
    let sum = 0;
    for (const s of scorers) sum += s(n, Host);
    const pressure = Math.min(1, 0.5 + 2 * freeFraction(settings, n));
    const Score = Math.max(0, Math.min(MAX_EXTENDER_PRIORITY, Math.round((sum * pressure) / vols.length)));
    return { Host, Score };
  });
}
