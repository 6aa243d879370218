import * as t from 'io-ts';
import { intRange, oneOf } from '../decode.ts';
import { Quantity } from '../quantity.ts';
import { Condition, resource } from './meta.ts';

/** Where replicas are kept relative to the attach node (Longhorn's dataLocality). */
export const DataLocality = oneOf(['disabled', 'best-effort', 'strict-local'] as const);
export type DataLocality = t.TypeOf<typeof DataLocality>;

/** Access modes: ReadWriteOnce, ReadWriteOncePod, ReadWriteMany. */
export const AccessMode = oneOf(['rwo', 'rwop', 'rwx'] as const);
export type AccessMode = t.TypeOf<typeof AccessMode>;

/** How the volume is exposed on the attach node. */
export const Frontend = oneOf(['blockdev', 'iscsi'] as const);
export type Frontend = t.TypeOf<typeof Frontend>;

/** A per-volume override of a cluster-wide anti-affinity setting. */
export const AntiAffinityOverride = oneOf(['ignored', 'enabled', 'disabled'] as const);
export type AntiAffinityOverride = t.TypeOf<typeof AntiAffinityOverride>;

/** A per-volume override of replica-auto-balance. */
export const AutoBalanceOverride = oneOf(['ignored', 'disabled', 'least-effort', 'best-effort'] as const);
export type AutoBalanceOverride = t.TypeOf<typeof AutoBalanceOverride>;

export const VolumeState = oneOf(['creating', 'detached', 'attaching', 'attached', 'detaching', 'deleting'] as const);
export type VolumeState = t.TypeOf<typeof VolumeState>;

export const Robustness = oneOf(['unknown', 'healthy', 'degraded', 'faulted'] as const);
export type Robustness = t.TypeOf<typeof Robustness>;

/** Volume.spec after defaulting: the fields every controller may rely on. */
export const VolumeSpec = t.intersection([
  t.type({
    size: Quantity,
    numberOfReplicas: intRange(1, 20),
    dataLocality: DataLocality,
    accessMode: AccessMode,
    frontend: Frontend,
  }),
  t.partial({
    /** Node the volume is attached to; '' or absent means detached. */
    nodeID: t.string,
    nodeSelector: t.array(t.string),
    diskSelector: t.array(t.string),
    replicaSoftAntiAffinity: AntiAffinityOverride,
    replicaZoneSoftAntiAffinity: AntiAffinityOverride,
    replicaDiskSoftAntiAffinity: AntiAffinityOverride,
    replicaAutoBalance: AutoBalanceOverride,
    /** Minutes an ERR replica is kept before it is replaced. */
    staleReplicaTimeout: intRange(1, 60 * 24 * 365),
    snapshotMaxCount: intRange(2, 250),
  }),
]);
export type VolumeSpec = t.TypeOf<typeof VolumeSpec>;

/** Where the attached volume can be reached. */
export const VolumeEndpoint = t.partial({ portal: t.string, iqn: t.string, url: t.string });

export const VolumeStatus = t.partial({
  state: VolumeState,
  robustness: Robustness,
  currentNodeID: t.string,
  endpoint: VolumeEndpoint,
  /** Per replica name: its mode in the engine (RW, WO, ERR). */
  replicaModes: t.record(t.string, t.string),
  actualSize: t.string,
  conditions: t.array(Condition),
  lastDegradedAt: t.string,
});
export type VolumeStatus = t.TypeOf<typeof VolumeStatus>;

/** A replicated block volume. */
export const Volume = resource('Volume', { spec: VolumeSpec }, { status: VolumeStatus });
export type Volume = t.TypeOf<typeof Volume>;
