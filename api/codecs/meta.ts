import * as t from 'io-ts';
import { Timestamp } from '../decode.ts';

/** The API group and version of every Shorthorn custom resource. */
export const GROUP = 'shorthorn.io';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Kubernetes ObjectMeta, the fields Shorthorn reads or writes; unknown fields pass through (non-exact). */
export const ObjectMeta = t.intersection([
  t.type({ name: t.string }),
  t.partial({
    namespace: t.string,
    generateName: t.string,
    uid: t.string,
    resourceVersion: t.string,
    generation: t.number,
    creationTimestamp: Timestamp,
    deletionTimestamp: Timestamp,
    deletionGracePeriodSeconds: t.number,
    labels: t.record(t.string, t.string),
    annotations: t.record(t.string, t.string),
    finalizers: t.array(t.string),
    ownerReferences: t.array(
      t.intersection([
        t.type({ apiVersion: t.string, kind: t.string, name: t.string, uid: t.string }),
        t.partial({ controller: t.boolean, blockOwnerDeletion: t.boolean }),
      ]),
    ),
  }),
]);
export type ObjectMeta = t.TypeOf<typeof ObjectMeta>;

/** A status condition, as in metav1.Condition. */
export const Condition = t.intersection([
  t.type({ type: t.string, status: t.union([t.literal('True'), t.literal('False'), t.literal('Unknown')]) }),
  t.partial({ reason: t.string, message: t.string, lastTransitionTime: t.string, lastProbeTime: t.string }),
]);
export type Condition = t.TypeOf<typeof Condition>;

/** The finalizer Shorthorn puts on the objects whose deletion needs clean-up. */
export const FINALIZER = 'shorthorn.io';

/** Topology labels read from Node objects. */
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_RACK = 'shorthorn.io/rack';

/** Builds the typed envelope of a kind: apiVersion, kind, metadata and the given body codec. */
export function resource<K extends string, B extends t.Props, O extends t.Props = {}>(kind: K, body: B, optional: O = {} as O) {
  return t.intersection([t.type({ apiVersion: t.literal(API_VERSION), kind: t.literal(kind), metadata: ObjectMeta }), t.type(body), t.partial(optional)]);
}
