import type { DiskInfo, NodeInfo } from '../graph/types.ts';
import { ReasonCode } from './reasons.ts';
import type { VolumeRequest } from './request.ts';

/**
 * Where the volume's replicas are while a placement is being chosen: how many sit in each zone,
 * rack, node and disk (existing replicas plus the picks made so far) and the bytes the picks add to
 * each disk. Local to one placement call; the graph is never written.
 */
export interface SpreadState {
  readonly zones: Map<string, number>;
  /** Keyed `<zone>/<rack>`. */
  readonly racks: Map<string, number>;
  readonly nodes: Map<string, number>;
  /** Keyed by disk key `<node>/<disk>`. */
  readonly disks: Map<string, number>;
  /** Nominal bytes the picks of this placement add to a disk. */
  readonly addedBytes: Map<string, number>;
  /** Actual bytes the picks of this placement will copy to a disk. */
  readonly addedActual: Map<string, number>;
}

/** An empty spread state. */
export function emptySpread(): SpreadState {
  return { zones: new Map(), racks: new Map(), nodes: new Map(), disks: new Map(), addedBytes: new Map(), addedActual: new Map() };
}

function bump(m: Map<string, number>, k: string, by: number): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/** Counts a replica at (node, disk) in the spread; `addBytes` when it is a new pick. */
export function addToSpread(s: SpreadState, node: NodeInfo, diskKey: string, addBytes?: { nominal: number; actual: number }): void {
  bump(s.zones, node.zone, 1);
  bump(s.racks, `${node.zone}/${node.rack}`, 1);
  bump(s.nodes, node.name, 1);
  bump(s.disks, diskKey, 1);
  if (addBytes !== undefined) {
    bump(s.addedBytes, diskKey, addBytes.nominal);
    bump(s.addedActual, diskKey, addBytes.actual);
  }
}

function missingTag(have: readonly string[], want: readonly string[]): string | undefined {
  for (const t of want) if (!have.includes(t)) return t;
  return undefined;
}

/** Bytes a disk may still be scheduled: (maximum − reserved) × over-provisioning − scheduled. */
export function schedulableBytes(req: VolumeRequest, s: SpreadState, d: DiskInfo): number {
  return (d.maximumBytes - d.reservedBytes) * req.overProvisioning - d.scheduledBytes - (s.addedBytes.get(d.key) ?? 0);
}

/** Bytes available above the minimal-available floor: available − copied − maximum × minimal%. */
export function headroomBytes(req: VolumeRequest, s: SpreadState, d: DiskInfo): number {
  return d.availableBytes - (s.addedActual.get(d.key) ?? 0) - d.maximumBytes * req.minimalAvailable;
}

/**
 * Checks one disk against every hard rule, in the order of ReasonCode, and answers the first rule
 * it breaks (undefined when the disk can take one more replica of the volume). Pure.
 */
export function checkDisk(req: VolumeRequest, s: SpreadState, d: DiskInfo, attachNode: string | undefined): ReasonCode | undefined {
  const n = d.node;
  if (!n.ready) return ReasonCode.NodeNotReady;
  if (!n.schedulable) return ReasonCode.NodeUnschedulable;
  if (n.evictionRequested) return ReasonCode.NodeEvicting;
  if (!d.ready) return ReasonCode.DiskNotReady;
  if (!d.schedulable) return ReasonCode.DiskUnschedulable;
  if (d.evictionRequested) return ReasonCode.DiskEvicting;
  if (missingTag(n.tags, req.nodeSelector) !== undefined) return ReasonCode.NodeTags;
  if (missingTag(d.tags, req.diskSelector) !== undefined) return ReasonCode.DiskTags;
  if (req.dataLocality === 'strict-local' && attachNode !== undefined && n.name !== attachNode) return ReasonCode.NotAttachNode;
  if (req.hardZone && (s.zones.get(n.zone) ?? 0) > 0) return ReasonCode.ZoneAntiAffinity;
  if (req.hardNode && (s.nodes.get(n.name) ?? 0) > 0) return ReasonCode.NodeAntiAffinity;
  if (req.hardDisk && (s.disks.get(d.key) ?? 0) > 0) return ReasonCode.DiskAntiAffinity;
  if (req.sizeBytes > schedulableBytes(req, s, d)) return ReasonCode.OverProvisioned;
  // Longhorn's rule: available − actualSize > maximum × minimalAvailable% (strictly greater).
  if (!(headroomBytes(req, s, d) - req.actualSizeBytes > 0)) return ReasonCode.MinimalAvailable;
  return undefined;
}

/** The first tag of the selector the disk (or its node, for NodeTags) lacks: for explanations. */
export function lackingTag(req: VolumeRequest, d: DiskInfo, code: ReasonCode): string | undefined {
  if (code === ReasonCode.NodeTags) return missingTag(d.node.tags, req.nodeSelector);
  if (code === ReasonCode.DiskTags) return missingTag(d.tags, req.diskSelector);
  return undefined;
}
