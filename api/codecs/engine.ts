import * as t from 'io-ts';
import { oneOf } from '../decode.ts';
import { Quantity } from '../quantity.ts';
import { Condition, resource } from './meta.ts';
import { DesireState, InstanceState } from './replica.ts';
import { Frontend } from './volume.ts';

/** A replica's mode inside the engine (Longhorn's closed set). */
export const ReplicaMode = oneOf(['RW', 'WO', 'ERR'] as const);
export type ReplicaMode = t.TypeOf<typeof ReplicaMode>;

export const EngineSpec = t.intersection([
  t.type({
    volumeName: t.string,
    volumeSize: Quantity,
    nodeID: t.string,
    desireState: DesireState,
    frontend: Frontend,
    /** Replica name → host:port of its server. */
    replicaAddressMap: t.record(t.string, t.string),
  }),
  t.partial({}),
]);
export type EngineSpec = t.TypeOf<typeof EngineSpec>;

/** Progress of one replica's rebuild. */
export const RebuildStatus = t.partial({
  state: oneOf(['in-progress', 'complete', 'error'] as const),
  doneBytes: t.string,
  totalBytes: t.string,
  error: t.string,
});

export const EngineStatus = t.partial({
  currentState: InstanceState,
  /** Replica name → mode. */
  replicaModeMap: t.record(t.string, ReplicaMode),
  rebuildStatus: t.record(t.string, RebuildStatus),
  /** host:port of the engine's control API. */
  controlAddress: t.string,
  /** iSCSI portal host:port and IQN when the frontend is up. */
  portal: t.string,
  iqn: t.string,
  pid: t.number,
  message: t.string,
  conditions: t.array(Condition),
});
export type EngineStatus = t.TypeOf<typeof EngineStatus>;

/** The process that serves a volume on its attach node and replicates its writes. */
export const Engine = resource('Engine', { spec: EngineSpec }, { status: EngineStatus });
export type Engine = t.TypeOf<typeof Engine>;
