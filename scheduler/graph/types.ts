/**
 * The placement model: failure domains region → zone → rack → node → disk, with the replicas each
 * disk holds. These records are what the pure placement code reads (through `PlacementView`); the
 * graph (cluster-graph.ts) owns them and keeps them current from watches.
 */

/** The zone of nodes without a zone label: all of them share it, as in Longhorn. */
export const DEFAULT_ZONE = '';

/** A replica as placement sees it: where it is, how big, and whether it counts. */
export interface ReplicaInfo {
  readonly name: string;
  readonly volumeName: string;
  readonly nodeID: string;
  /** The disk's name in Node.spec.disks (a diskID given as the disk's UUID is resolved to it). */
  readonly diskID: string;
  /** Nominal size in bytes (spec.volumeSize). */
  readonly sizeBytes: number;
  /** spec.failedAt is set: the replica is not serving. */
  readonly failed: boolean;
  /** spec.evictionRequested: move it elsewhere before removing it. */
  readonly evictionRequested: boolean;
  /** status.currentState is 'running'. */
  readonly running: boolean;
  /** metadata.deletionTimestamp is set. */
  readonly deleting: boolean;
  /** spec.failedAt as epoch milliseconds (NaN when not failed). */
  readonly failedAtMs: number;
}

/** One disk with its capacity figures and flags. Mutable only by the graph that owns it. */
export interface DiskInfo {
  /** `<node>/<disk>`: unique in the cluster. */
  readonly key: string;
  readonly name: string;
  /** status.diskUUID, when the disk manager reported one. */
  readonly uuid?: string;
  readonly path: string;
  readonly node: NodeInfo;
  readonly maximumBytes: number;
  readonly availableBytes: number;
  readonly reservedBytes: number;
  readonly tags: readonly string[];
  readonly ready: boolean;
  /** allowScheduling is not false and the Schedulable condition is not False. */
  readonly schedulable: boolean;
  readonly evictionRequested: boolean;
  /** Sum of the nominal sizes of the replicas on this disk (all of them, failed included). */
  scheduledBytes: number;
  /** Replicas on this disk by name. */
  readonly replicas: Map<string, ReplicaInfo>;
  /** scheduled / (maximum − reserved): the ordering key of the domain aggregates (Infinity when not usable). */
  usage: number;
}

/** One node of the cluster with its disks. */
export interface NodeInfo {
  readonly name: string;
  readonly zone: string;
  readonly region: string;
  /** The rack key: the rack label, or the node's own name when it has none (a rack of one). */
  readonly rack: string;
  /** `<zone>/<rack>`: the rack's identity in the cluster. */
  readonly rackKey: string;
  readonly tags: readonly string[];
  readonly ready: boolean;
  readonly schedulable: boolean;
  readonly evictionRequested: boolean;
  readonly disks: DiskInfo[];
  /** Lowest usage of its usable disks (Infinity when none). */
  minUsage: number;
}

/** A rack: a set of nodes within one zone. */
export interface RackInfo {
  readonly key: string;
  readonly zone: string;
  readonly nodes: NodeInfo[];
  minUsage: number;
}

/** A zone: racks, within one region. */
export interface ZoneInfo {
  readonly name: string;
  readonly region: string;
  readonly racks: RackInfo[];
  minUsage: number;
}

/**
 * The read-only view placement works on. Domains carry `minUsage`, the lowest usage of any usable
 * disk beneath them, so a search can skip a whole domain that cannot beat what it already found.
 */
export interface PlacementView {
  readonly zones: readonly ZoneInfo[];
  /** Every disk, in a stable order (node name, then disk name). */
  disks(): Iterable<DiskInfo>;
  readonly diskCount: number;
  node(name: string): NodeInfo | undefined;
  disk(nodeName: string, diskName: string): DiskInfo | undefined;
  /** The replicas of a volume that the graph knows, by name. */
  replicasOf(volumeName: string): readonly ReplicaInfo[];
}
