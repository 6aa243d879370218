/**
 * The CRDs of shorthorn.io/v1beta1, written as data and rendered to YAML by scripts/gen-crds.ts
 * (`node --import tsx scripts/gen-crds.ts`). The schemas are written here by hand, apart from the
 * io-ts codecs in api/codecs, and spec/manifests/crds.spec.ts proves the two agree on samples.
 */
type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const bool = (): Schema => ({ type: 'boolean' });
const int = (minimum: number, maximum?: number): Schema => ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}) });
const enumOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const arr = (items: Schema): Schema => ({ type: 'array', items });
const map = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, ...(required.length ? { required } : {}) });

/** Sizes: a non-negative quantity (10Gi, 500M, 1.5Gi, 12e6) or a byte count. */
const quantity = (): Schema => str({ pattern: '^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|[eE]\\+?[0-9]+)?$' });
const byteCount = (): Schema => str({ pattern: '^(0|[1-9][0-9]{0,15})$' });
const TIMESTAMP = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$';
/** A timestamp or '' (structural schemas allow no `type` inside anyOf, so the branches carry only patterns). */
const timestampOrEmpty = (): Schema => ({ type: 'string', anyOf: [{ pattern: TIMESTAMP }, { maxLength: 0 }] });
const conditions = (): Schema =>
  arr(obj({ type: str(), status: enumOf('True', 'False', 'Unknown'), reason: str(), message: str(), lastTransitionTime: str(), lastProbeTime: str() }, ['type', 'status']));
const override = () => enumOf('ignored', 'enabled', 'disabled');
const desire = () => enumOf('running', 'stopped');
const instanceState = () => enumOf('pending', 'starting', 'running', 'stopping', 'stopped', 'error');

export interface CrdDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly spec?: Schema;
  readonly status?: Schema;
  /** Top-level fields other than spec/status (Setting.value). */
  readonly top?: Record<string, Schema>;
  readonly required: readonly string[];
  readonly columns: ReadonlyArray<{ name: string; type: string; jsonPath: string; description?: string }>;
}

export const CRDS: readonly CrdDefinition[] = [
  {
    kind: 'Volume',
    plural: 'volumes',
    singular: 'volume',
    shortNames: ['shv', 'shvol'],
    required: ['spec'],
    spec: obj(
      {
        size: quantity(),
        numberOfReplicas: int(1, 20),
        dataLocality: enumOf('disabled', 'best-effort', 'strict-local'),
        accessMode: enumOf('rwo', 'rwop', 'rwx'),
        frontend: enumOf('blockdev', 'iscsi'),
        nodeID: str(),
        nodeSelector: arr(str()),
        diskSelector: arr(str()),
        replicaSoftAntiAffinity: override(),
        replicaZoneSoftAntiAffinity: override(),
        replicaDiskSoftAntiAffinity: override(),
        replicaAutoBalance: enumOf('ignored', 'disabled', 'least-effort', 'best-effort'),
        staleReplicaTimeout: int(1, 525600),
        snapshotMaxCount: int(2, 250),
      },
      ['size', 'numberOfReplicas', 'dataLocality', 'accessMode', 'frontend'],
    ),
    status: obj({
      state: enumOf('creating', 'detached', 'attaching', 'attached', 'detaching', 'deleting'),
      robustness: enumOf('unknown', 'healthy', 'degraded', 'faulted'),
      currentNodeID: str(),
      endpoint: obj({ portal: str(), iqn: str(), url: str() }),
      replicaModes: map(str()),
      actualSize: str(),
      conditions: conditions(),
      lastDegradedAt: str(),
    }),
    columns: [
      { name: 'Size', type: 'string', jsonPath: '.spec.size', description: 'nominal size' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.numberOfReplicas', description: 'desired replicas' },
      { name: 'State', type: 'string', jsonPath: '.status.state' },
      { name: 'Robustness', type: 'string', jsonPath: '.status.robustness' },
      { name: 'Node', type: 'string', jsonPath: '.spec.nodeID', description: 'attach node' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    kind: 'Replica',
    plural: 'replicas',
    singular: 'replica',
    shortNames: ['shr'],
    required: ['spec'],
    spec: obj(
      {
        volumeName: str(),
        volumeSize: quantity(),
        nodeID: str(),
        diskID: str(),
        diskPath: str(),
        dataDirectoryName: str(),
        desireState: desire(),
        failedAt: timestampOrEmpty(),
        healthyAt: timestampOrEmpty(),
        evictionRequested: bool(),
      },
      ['volumeName', 'volumeSize', 'nodeID', 'diskID', 'diskPath', 'dataDirectoryName', 'desireState'],
    ),
    status: obj({ currentState: instanceState(), address: str(), pid: { type: 'number' }, message: str(), conditions: conditions() }),
    columns: [
      { name: 'Volume', type: 'string', jsonPath: '.spec.volumeName' },
      { name: 'Node', type: 'string', jsonPath: '.spec.nodeID' },
      { name: 'Disk', type: 'string', jsonPath: '.spec.diskID' },
      { name: 'State', type: 'string', jsonPath: '.status.currentState' },
      { name: 'Address', type: 'string', jsonPath: '.status.address' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    kind: 'Engine',
    plural: 'engines',
    singular: 'engine',
    shortNames: ['she'],
    required: ['spec'],
    spec: obj(
      { volumeName: str(), volumeSize: quantity(), nodeID: str(), desireState: desire(), frontend: enumOf('blockdev', 'iscsi'), replicaAddressMap: map(str()) },
      ['volumeName', 'volumeSize', 'nodeID', 'desireState', 'frontend', 'replicaAddressMap'],
    ),
    status: obj({
      currentState: instanceState(),
      replicaModeMap: map(enumOf('RW', 'WO', 'ERR')),
      rebuildStatus: map(obj({ state: enumOf('in-progress', 'complete', 'error'), doneBytes: str(), totalBytes: str(), error: str() })),
      controlAddress: str(),
      portal: str(),
      iqn: str(),
      pid: { type: 'number' },
      message: str(),
      conditions: conditions(),
    }),
    columns: [
      { name: 'Volume', type: 'string', jsonPath: '.spec.volumeName' },
      { name: 'Node', type: 'string', jsonPath: '.spec.nodeID' },
      { name: 'State', type: 'string', jsonPath: '.status.currentState' },
      { name: 'Portal', type: 'string', jsonPath: '.status.portal' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    shortNames: ['shn'],
    required: ['spec'],
    spec: obj({
      disks: map(obj({ path: str(), allowScheduling: bool(), evictionRequested: bool(), storageReserved: quantity(), tags: arr(str()), diskType: enumOf('filesystem') }, ['path'])),
      tags: arr(str()),
      allowScheduling: bool(),
      evictionRequested: bool(),
    }),
    status: obj({
      diskStatus: map(obj({ diskUUID: str(), diskPath: str(), storageMaximum: byteCount(), storageAvailable: byteCount(), storageScheduled: byteCount(), scheduledReplica: map(byteCount()), conditions: conditions() })),
      conditions: conditions(),
      zone: str(),
      region: str(),
      rack: str(),
      agentAddress: str(),
      lastHeartbeatTime: str({ pattern: TIMESTAMP }),
      agentState: enumOf('running', 'unreachable'),
    }),
    columns: [
      { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
      { name: 'AllowScheduling', type: 'boolean', jsonPath: '.spec.allowScheduling' },
      { name: 'Zone', type: 'string', jsonPath: '.status.zone' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    kind: 'Setting',
    plural: 'settings',
    singular: 'setting',
    shortNames: ['shs'],
    required: ['value'],
    top: { value: str() },
    columns: [
      { name: 'Value', type: 'string', jsonPath: '.value' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
];

/** The openAPIV3Schema of a kind. */
export function openApiSchema(d: CrdDefinition): Schema {
  return {
    type: 'object',
    properties: {
      apiVersion: str(),
      kind: str(),
      metadata: { type: 'object' },
      ...(d.spec ? { spec: d.spec } : {}),
      ...(d.status ? { status: d.status } : {}),
      ...(d.top ?? {}),
    },
    required: [...d.required],
  };
}

/** The CustomResourceDefinition object of a kind. */
export function crdObject(d: CrdDefinition): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.shorthorn.io`, labels: { 'app.kubernetes.io/name': 'shorthorn', 'app.kubernetes.io/component': 'crds' } },
    spec: {
      group: 'shorthorn.io',
      scope: 'Namespaced',
      names: { kind: d.kind, listKind: `${d.kind}List`, plural: d.plural, singular: d.singular, shortNames: [...d.shortNames], categories: ['shorthorn'] },
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          ...(d.status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: d.columns,
          schema: { openAPIV3Schema: openApiSchema(d) },
        },
      ],
    },
  };
}
