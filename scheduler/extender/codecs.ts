import * as t from 'io-ts';

/**
 * The kube-scheduler extender wire types (k8s.io/kube-scheduler/extender/v1). The Go structs have
 * no json tags, so the keys are the capitalised Go field names; nil slices and maps arrive as null.
 * Pods and Nodes inside are ordinary Kubernetes JSON (lower-case keys); only the fields read here
 * are typed, the rest passes through untouched (non-exact codecs).
 */

/** The most a filter or prioritize answer may score per node (extender/v1 MaxExtenderPriority). */
export const MAX_EXTENDER_PRIORITY = 10;

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);

/** A pod volume: only PVC references matter here. */
export const PodVolume = t.intersection([
  t.type({ name: t.string }),
  t.partial({ persistentVolumeClaim: Nullable(t.intersection([t.type({ claimName: t.string }), t.partial({ readOnly: t.boolean })])) }),
]);

/** The Pod fields the extender reads. */
export const Pod = t.type({
  metadata: t.intersection([t.type({ name: t.string }), t.partial({ namespace: t.string, uid: t.string })]),
  spec: t.partial({ volumes: Nullable(t.array(PodVolume)), nodeName: t.string }),
});
/** The decoded Pod fields. */
export type Pod = t.TypeOf<typeof Pod>;

/** A v1.Node as it arrives in a NodeList: its name and the fields that decide whether it can attach. */
export const KubeNode = t.type({
  metadata: t.intersection([t.type({ name: t.string }), t.partial({ labels: Nullable(t.record(t.string, t.string)) })]),
});
/** A node of a NodeList: decoded name and labels, plus the fields read without a codec. */
export type KubeNode = t.TypeOf<typeof KubeNode> & {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] | null };
};

/** A v1.NodeList: `items` (null when empty, as Go encodes a nil slice). */
export const NodeList = t.type({ items: Nullable(t.array(KubeNode)) });

/**
 * An array of strings, checked in one loop: NodeNames holds every node of the cluster (5,000 and
 * more) on every call, and t.array(t.string) allocates a context per element.
 */
export const NodeNameList = new t.Type<string[], string[], unknown>(
  'Array<string>',
  (u): u is string[] => Array.isArray(u) && u.every((x) => typeof x === 'string'),
  (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c);
    for (let i = 0; i < u.length; i++) {
      if (typeof u[i] !== 'string') return t.failure(u[i], [...c, { key: String(i), type: t.string, actual: u[i] }]);
    }
    return t.success(u as string[]);
  },
  t.identity,
);

/** ExtenderArgs: Pod plus either Nodes (nodeCacheCapable false) or NodeNames (true). */
export const ExtenderArgs = t.intersection([t.type({ Pod }), t.partial({ Nodes: Nullable(NodeList), NodeNames: Nullable(NodeNameList) })]);
/** Decoded ExtenderArgs. */
export type ExtenderArgs = t.TypeOf<typeof ExtenderArgs>;

/** FailedNodesMap: node name → reason. */
export type FailedNodesMap = Record<string, string>;

/** ExtenderFilterResult, in the form matching the request. */
export interface ExtenderFilterResult {
  readonly Nodes: { readonly items: readonly unknown[] } | null;
  readonly NodeNames: readonly string[] | null;
  readonly FailedNodes: FailedNodesMap;
  readonly FailedAndUnresolvableNodes: FailedNodesMap;
  readonly Error: string;
}

/** One entry of a HostPriorityList. */
export interface HostPriority {
  readonly Host: string;
  readonly Score: number;
}
