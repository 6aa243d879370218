import * as t from 'io-ts';
import { oneOf, Timestamp } from '../decode.ts';
import { Quantity } from '../quantity.ts';
import { Condition, resource } from './meta.ts';

/** What the owner wants of a replica's process. */
export const DesireState = oneOf(['running', 'stopped'] as const);
export type DesireState = t.TypeOf<typeof DesireState>;

/** What the node agent observes of an instance's process. */
export const InstanceState = oneOf(['pending', 'starting', 'running', 'stopping', 'stopped', 'error'] as const);
export type InstanceState = t.TypeOf<typeof InstanceState>;

export const ReplicaSpec = t.intersection([
  t.type({
    volumeName: t.string,
    volumeSize: Quantity,
    nodeID: t.string,
    diskID: t.string,
    diskPath: t.string,
    dataDirectoryName: t.string,
    desireState: DesireState,
  }),
  t.partial({
    /** When the replica was last seen failed ('' when healthy). */
    failedAt: t.union([Timestamp, t.literal('')]),
    /** When the replica was last fully rebuilt and healthy. */
    healthyAt: t.union([Timestamp, t.literal('')]),
    /** Set by eviction or auto-balance: replace this replica before removing it. */
    evictionRequested: t.boolean,
  }),
]);
export type ReplicaSpec = t.TypeOf<typeof ReplicaSpec>;

export const ReplicaStatus = t.partial({
  currentState: InstanceState,
  /** host:port of the running replica server. */
  address: t.string,
  pid: t.number,
  message: t.string,
  conditions: t.array(Condition),
});
export type ReplicaStatus = t.TypeOf<typeof ReplicaStatus>;

/** One copy of a volume's data, on one disk of one node. */
export const Replica = resource('Replica', { spec: ReplicaSpec }, { status: ReplicaStatus });
export type Replica = t.TypeOf<typeof Replica>;
