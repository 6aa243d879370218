import * as E from 'fp-ts/Either';
import type { Volume } from '../../api/codecs/volume.ts';
import type { Settings } from '../../api/settings.ts';
import type { DiskInfo, NodeInfo, PlacementView, ReplicaInfo } from '../graph/types.ts';
import { explain } from './explain.ts';
import { addToSpread, checkDisk, emptySpread, type SpreadState } from './filter.ts';
import type { ReasonCode } from './reasons.ts';
import { volumeRequest, type VolumeRequest } from './request.ts';
import { balanceBound, balanceOf, isBetter, mayBeat, tierOf, type Candidate } from './score.ts';

/** Where one new replica goes. */
export interface Pick {
  readonly node: string;
  readonly disk: string;
  readonly diskPath: string;
}

/** A successful placement: every missing replica has a disk. */
export interface Placement {
  readonly picks: readonly Pick[];
}

/** Some replica could not be placed: the picks that could, and why the next one could not. */
export interface Unschedulable {
  readonly _tag: 'Unschedulable';
  readonly volume: string;
  readonly wanted: number;
  /** The replicas that did find a disk (they keep the best spread available). */
  readonly placed: readonly Pick[];
  readonly considered: number;
  readonly reasons: ReadonlyMap<ReasonCode, number>;
  /** Disk key → reason text (TopoLVM's failed-node map, per disk). */
  readonly failed: ReadonlyMap<string, string>;
  readonly message: string;
}

/** Where a replica of the volume already is. */
export interface ReplicaRef {
  readonly nodeID: string;
  readonly diskID: string;
}

/** Options of placeReplicas: the attach node and the replicas that already count. */
export interface PlaceOptions {
  /** The node the volume is (or will be) attached to: data locality is relative to it. */
  readonly attachNode?: string;
  /** Replicas that count for spread; default: the volume's active replicas in the view. */
  readonly existing?: readonly ReplicaRef[];
}

/**
 * Does this replica count as one of the volume's copies: not failed, not going, not being evicted,
 * and on a disk the cluster still has (a replica whose node or disk was removed is replaced like an
 * evicted one)?
 */
export function isActiveReplica(view: PlacementView, r: ReplicaInfo): boolean {
  if (r.failed || r.deleting || r.evictionRequested) return false;
  const d = view.disk(r.nodeID, r.diskID);
  return d !== undefined && !(d.evictionRequested || d.node.evictionRequested);
}

function consider(req: VolumeRequest, s: SpreadState, d: DiskInfo, attach: string | undefined, best: Candidate | undefined): Candidate | undefined {
  if (d.usage === Infinity) return best;
  const tier = tierOf(s, d);
  if (!mayBeat(tier, balanceBound(req, d.usage), best)) return best;
  if (checkDisk(req, s, d, attach) !== undefined) return best;
  const c: Candidate = { disk: d, tier, balance: balanceOf(req, s, d) };
  return isBetter(c, best) ? c : best;
}

/**
 * Branch and bound over the domain tree: children are visited best bound first, then the rest in
 * name order, and a domain whose (tier, balance bound) cannot beat the best candidate is skipped.
 * Near O(zones + racks + nodes of the visited domains) instead of O(disks).
 */
function searchBest(view: PlacementView, req: VolumeRequest, s: SpreadState, attach: string | undefined, onlyNode: NodeInfo | undefined): Candidate | undefined {
  let best: Candidate | undefined;
  const visitNode = (n: NodeInfo) => {
    for (const d of n.disks) best = consider(req, s, d, attach, best);
  };
  if (onlyNode !== undefined) {
    visitNode(onlyNode);
    return best;
  }
  for (const z of bestFirst(view.zones, (z) => ((s.zones.get(z.name) ?? 0) === 0 ? 4 : 3), req)) {
    if (!mayBeat(z.tier, z.bound, best)) continue;
    const zoneUsed = z.tier !== 4;
    for (const r of bestFirst(z.item.racks, (r) => (!zoneUsed ? 4 : (s.racks.get(`${r.zone}/${r.key}`) ?? 0) === 0 ? 3 : 2), req)) {
      if (!mayBeat(r.tier, r.bound, best)) continue;
      const rackUsed = r.tier <= 2;
      for (const n of bestFirst(r.item.nodes, (n) => (!rackUsed ? r.tier : (s.nodes.get(n.name) ?? 0) === 0 ? 2 : 1), req)) {
        if (!mayBeat(n.tier, n.bound, best)) continue;
        visitNode(n.item);
      }
    }
  }
  return best;
}

interface Bounded<T> {
  readonly item: T;
  readonly tier: number;
  readonly bound: number;
}

/** The usable children with their bounds: the best one first, then the others in name order. */
function* bestFirst<T extends { minUsage: number }>(items: readonly T[], tier: (x: T) => number, req: VolumeRequest): Generator<Bounded<T>> {
  let first = -1;
  let ft = -1;
  let fb = -Infinity;
  for (let i = 0; i < items.length; i++) {
    const x = items[i] as T;
    const b = balanceBound(req, x.minUsage);
    if (b === -Infinity) continue;
    const t = tier(x);
    if (t > ft || (t === ft && b > fb)) {
      first = i;
      ft = t;
      fb = b;
    }
  }
  if (first < 0) return;
  yield { item: items[first] as T, tier: ft, bound: fb };
  for (let i = 0; i < items.length; i++) {
    if (i === first) continue;
    const x = items[i] as T;
    const b = balanceBound(req, x.minUsage);
    if (b === -Infinity) continue;
    yield { item: x, tier: tier(x), bound: b };
  }
}

/** The spread of the given replicas (those on disks the view does not know still count for their node). */
function spreadOf(view: PlacementView, existing: readonly ReplicaRef[]): SpreadState {
  const s = emptySpread();
  for (const r of existing) {
    const node = view.node(r.nodeID);
    if (node === undefined) continue;
    addToSpread(s, node, `${r.nodeID}/${r.diskID}`);
  }
  return s;
}

/**
 * Chooses disks for `count` new replicas of a resolved request, together: each pick sees the
 * spread and the bytes of the picks before it. Order of preference: the attach node first under
 * best-effort locality; then the highest spread tier (new zone, new rack, new node, new disk); then
 * the balance score. Hard rules are filters; soft anti-affinity only lowers the tier. Pure.
 */
export function placeRequest(view: PlacementView, req: VolumeRequest, count: number, opts: { attachNode?: string; existing: readonly ReplicaRef[] }): E.Either<Unschedulable, Placement> {
  const s = spreadOf(view, opts.existing);
  const attach = opts.attachNode === undefined || opts.attachNode === '' ? undefined : opts.attachNode;
  const attachInfo = attach === undefined ? undefined : view.node(attach);
  const strictNode = req.dataLocality === 'strict-local' && attach !== undefined ? (attachInfo ?? emptyNode(attach)) : undefined;
  const picks: Pick[] = [];
  for (let i = 0; i < count; i++) {
    let best: Candidate | undefined;
    if (req.dataLocality === 'best-effort' && attachInfo !== undefined && (s.nodes.get(attachInfo.name) ?? 0) === 0) {
      best = searchBest(view, req, s, attach, attachInfo);
    }
    best ??= searchBest(view, req, s, attach, strictNode);
    if (best === undefined) {
      const why = explain(view, req, s, attach);
      const prefix = count > 1 || opts.existing.length > 0 ? `replica ${opts.existing.length + i + 1} of ${opts.existing.length + count}: ` : '';
      return E.left({ _tag: 'Unschedulable', volume: req.name, wanted: count, placed: picks, considered: why.considered, reasons: why.reasons, failed: why.perDisk, message: prefix + why.message });
    }
    const d = best.disk;
    picks.push({ node: d.node.name, disk: d.name, diskPath: d.path });
    addToSpread(s, d.node, d.key, { nominal: req.sizeBytes, actual: req.actualSizeBytes });
  }
  return E.right({ picks });
}

function emptyNode(name: string): NodeInfo {
  return { name, zone: '', region: '', rack: name, rackKey: `/${name}`, tags: [], ready: false, schedulable: false, evictionRequested: false, disks: [], minUsage: Infinity };
}

/** Places `count` new replicas of a Volume under the cluster Settings (see placeRequest). Pure. */
export function placeReplicas(view: PlacementView, volume: Volume, settings: Settings, count: number, opts: PlaceOptions = {}): E.Either<Unschedulable, Placement> {
  const existing = opts.existing ?? view.replicasOf(volume.metadata.name).filter((r) => isActiveReplica(view, r));
  const attachNode = opts.attachNode ?? volume.spec.nodeID;
  return placeRequest(view, volumeRequest(volume, settings), count, { existing, ...(attachNode !== undefined ? { attachNode } : {}) });
}
