/** Tiny fixture builders for the scheduler specs: Node, Volume and Replica objects as the store holds them. */
import { API_VERSION, LABEL_RACK, LABEL_ZONE } from '../../api/codecs/meta.ts';
import type { Node } from '../../api/codecs/node.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Volume, VolumeSpec } from '../../api/codecs/volume.ts';

export const Gi = 1024 ** 3;

/** A disk of a test node. Sizes in GiB. */
export interface DiskOpts {
  name?: string;
  maxGi?: number;
  availGi?: number;
  reservedGi?: number;
  tags?: string[];
  ready?: boolean;
  allowScheduling?: boolean;
  evictionRequested?: boolean;
}

/** A node of a test cluster. */
export interface NodeOpts {
  zone?: string;
  rack?: string;
  tags?: string[];
  ready?: boolean;
  allowScheduling?: boolean;
  evictionRequested?: boolean;
  disks?: DiskOpts[];
}

/** Builds a Node object: `node('n1', { zone: 'a', disks: [{ maxGi: 100 }] })`. */
export function node(name: string, o: NodeOpts = {}): Node {
  const disks = o.disks ?? [{}];
  const spec: Record<string, unknown> = {};
  const status: Record<string, unknown> = {};
  disks.forEach((d, i) => {
    const dn = d.name ?? `d${i + 1}`;
    const max = (d.maxGi ?? 100) * Gi;
    spec[dn] = {
      path: `/data/${dn}`,
      storageReserved: String((d.reservedGi ?? 0) * Gi),
      ...(d.tags ? { tags: d.tags } : {}),
      ...(d.allowScheduling === false ? { allowScheduling: false } : {}),
      ...(d.evictionRequested ? { evictionRequested: true } : {}),
    };
    status[dn] = {
      storageMaximum: String(max),
      storageAvailable: String(Math.floor((d.availGi ?? d.maxGi ?? 100) * Gi)),
      conditions: [{ type: 'Ready', status: d.ready === false ? 'False' : 'True' }],
    };
  });
  const labels: Record<string, string> = {};
  if (o.zone !== undefined) labels[LABEL_ZONE] = o.zone;
  if (o.rack !== undefined) labels[LABEL_RACK] = o.rack;
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name, labels },
    spec: {
      disks: spec as never,
      ...(o.tags ? { tags: o.tags } : {}),
      ...(o.allowScheduling === false ? { allowScheduling: false } : {}),
      ...(o.evictionRequested ? { evictionRequested: true } : {}),
    },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }], diskStatus: status as never },
  };
}

/** Builds a Volume object with defaults filled in as admission would. */
export function volume(name: string, o: Partial<VolumeSpec> & { sizeGi?: number } = {}): Volume {
  const { sizeGi, ...rest } = o;
  return {
    apiVersion: API_VERSION,
    kind: 'Volume',
    metadata: { name },
    spec: { size: `${sizeGi ?? 10}Gi`, numberOfReplicas: 3, dataLocality: 'disabled', accessMode: 'rwo', frontend: 'iscsi', ...rest },
  };
}

/** Builds a Replica object on a node's disk. */
export function replica(name: string, vol: string, nodeID: string, diskID = 'd1', o: { sizeGi?: number; failedAt?: string; running?: boolean } = {}): Replica {
  return {
    apiVersion: API_VERSION,
    kind: 'Replica',
    metadata: { name, labels: { 'shorthorn.io/volume': vol } },
    spec: {
      volumeName: vol,
      volumeSize: `${o.sizeGi ?? 10}Gi`,
      nodeID,
      diskID,
      diskPath: `/data/${diskID}`,
      dataDirectoryName: `${vol}-00000000`,
      desireState: 'running',
      ...(o.failedAt !== undefined ? { failedAt: o.failedAt } : {}),
    },
    ...(o.running ? { status: { currentState: 'running' as const } } : {}),
  };
}
