import * as t from 'io-ts';
import { ByteCount, oneOf, Timestamp } from '../decode.ts';
import { Quantity } from '../quantity.ts';
import { Condition, resource } from './meta.ts';

/** One disk of a node as the user configures it. */
export const DiskSpec = t.intersection([
  t.type({ path: t.string }),
  t.partial({
    allowScheduling: t.boolean,
    evictionRequested: t.boolean,
    /** Space kept free for other uses of the filesystem. */
    storageReserved: Quantity,
    tags: t.array(t.string),
    diskType: oneOf(['filesystem'] as const),
  }),
]);
export type DiskSpec = t.TypeOf<typeof DiskSpec>;

export const NodeSpec = t.partial({
  /** Disk name → disk. */
  disks: t.record(t.string, DiskSpec),
  tags: t.array(t.string),
  allowScheduling: t.boolean,
  evictionRequested: t.boolean,
});
export type NodeSpec = t.TypeOf<typeof NodeSpec>;

/** What the disk manager observes of one disk. Byte figures are integer strings. */
export const DiskStatus = t.partial({
  diskUUID: t.string,
  diskPath: t.string,
  storageMaximum: ByteCount,
  storageAvailable: ByteCount,
  storageScheduled: ByteCount,
  /** Replica name → its nominal size in bytes. */
  scheduledReplica: t.record(t.string, ByteCount),
  conditions: t.array(Condition),
});
export type DiskStatus = t.TypeOf<typeof DiskStatus>;

export const NodeStatus = t.partial({
  diskStatus: t.record(t.string, DiskStatus),
  conditions: t.array(Condition),
  zone: t.string,
  region: t.string,
  rack: t.string,
  /** Address of the agent's API, when it runs. */
  agentAddress: t.string,
  /** Written by the node's agent every heartbeat interval (and only by it). */
  lastHeartbeatTime: Timestamp,
  /** Written by the cluster's node-liveness loop (and only by it): unreachable once heartbeats stop. */
  agentState: oneOf(['running', 'unreachable'] as const),
});
export type NodeStatus = t.TypeOf<typeof NodeStatus>;

/** A storage node: its disks, tags and scheduling flags. */
export const Node = resource('Node', { spec: NodeSpec }, { status: NodeStatus });
export type Node = t.TypeOf<typeof Node>;
