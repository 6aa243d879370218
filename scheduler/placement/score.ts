import type { DiskInfo } from '../graph/types.ts';
import { schedulableBytes, type SpreadState } from './filter.ts';
import type { VolumeRequest } from './request.ts';

/**
 * Spread tier of a disk for the next replica: 4 = a zone holding none of the volume's replicas,
 * 3 = a new rack in a used zone, 2 = a new node in a used rack, 1 = a new disk on a used node,
 * 0 = a disk that already holds one. Picking the highest tier first, one replica after the other,
 * maximises (distinct zones, racks, nodes, disks) lexicographically, because the domains form a
 * tree: every pick in a new domain uses up exactly one new domain at each level below it.
 */
export type Tier = 0 | 1 | 2 | 3 | 4;

/** The tier of a disk given where the volume's replicas are. */
export function tierOf(s: SpreadState, d: DiskInfo): Tier {
  const n = d.node;
  if ((s.zones.get(n.zone) ?? 0) === 0) return 4;
  if ((s.racks.get(`${n.zone}/${n.rack}`) ?? 0) === 0) return 3;
  if ((s.nodes.get(n.name) ?? 0) === 0) return 2;
  if ((s.disks.get(d.key) ?? 0) === 0) return 1;
  return 0;
}

/**
 * Balance score: the fraction of the disk's schedulable limit still free before the replica is
 * added. Picking the highest fills the emptiest disks first (water-filling), which leaves the
 * cluster's free space most even. It is the score before adding, so that a domain's bound (its
 * emptiest disk) is exact and ties prune: with the score after adding, water-filling makes every
 * disk tie within one replica's size and the search would visit them all.
 */
export function balanceOf(req: VolumeRequest, s: SpreadState, d: DiskInfo): number {
  const limit = (d.maximumBytes - d.reservedBytes) * req.overProvisioning;
  if (limit <= 0) return 0;
  return schedulableBytes(req, s, d) / limit;
}

/** Upper bound of balanceOf for any disk of a domain whose lowest usage is `minUsage`. */
export function balanceBound(req: VolumeRequest, minUsage: number): number {
  if (minUsage === Infinity) return -Infinity;
  return req.overProvisioning > 0 ? 1 - minUsage / req.overProvisioning : 0;
}

/** A scored candidate. */
export interface Candidate {
  readonly disk: DiskInfo;
  readonly tier: Tier;
  readonly balance: number;
}

/**
 * Is `a` strictly better than `b`? Tier first, then balance; equal candidates keep the one found
 * first, and the search visits domains in name order, so ties break by zone, rack, node, disk name.
 */
export function isBetter(a: Candidate, b: Candidate | undefined): boolean {
  if (b === undefined) return true;
  if (a.tier !== b.tier) return a.tier > b.tier;
  return a.balance > b.balance;
}

/** Could a domain with this (tier, balance) bound hold a candidate better than `best`? */
export function mayBeat(tier: number, bound: number, best: Candidate | undefined): boolean {
  if (bound === -Infinity) return false;
  if (best === undefined) return true;
  if (tier !== best.tier) return tier > best.tier;
  return bound > best.balance;
}
