import * as E from 'fp-ts/Either';
import { LABEL_RACK, LABEL_REGION, LABEL_ZONE, type Condition } from '../../api/codecs/meta.ts';
import type { Node } from '../../api/codecs/node.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import { parseBytes, quantityBytes } from '../../api/quantity.ts';
import { ClusterGraph } from './cluster-graph.ts';
import { DEFAULT_ZONE, type ReplicaInfo } from './types.ts';

/** A disk as read from a Node object, before the graph links it. */
export interface DiskFacts {
  readonly name: string;
  /** status.diskUUID: a Replica's diskID may name the disk by it. */
  readonly uuid?: string;
  readonly path: string;
  readonly maximumBytes: number;
  readonly availableBytes: number;
  readonly reservedBytes: number;
  readonly tags: readonly string[];
  readonly ready: boolean;
  readonly schedulable: boolean;
  readonly evictionRequested: boolean;
}

/** A node as read from a Node object. */
export interface NodeFacts {
  readonly name: string;
  readonly zone: string;
  readonly region: string;
  readonly rack: string;
  readonly tags: readonly string[];
  readonly ready: boolean;
  readonly schedulable: boolean;
  readonly evictionRequested: boolean;
  readonly disks: readonly DiskFacts[];
}

function conditionTrue(conds: readonly Condition[] | undefined, type: string): boolean {
  return (conds ?? []).some((c) => c.type === type && c.status === 'True');
}

function conditionFalse(conds: readonly Condition[] | undefined, type: string): boolean {
  return (conds ?? []).some((c) => c.type === type && c.status === 'False');
}

function bytesOr0(s: string | undefined): number {
  if (s === undefined) return 0;
  const r = parseBytes(s);
  return E.isRight(r) ? r.right : 0;
}

/**
 * Reads the placement facts of a decoded Node: topology from the labels (status.zone/region/rack
 * mirror them when a label is absent), each disk's figures from status.diskStatus and its reserve
 * from spec. A disk without a status is not ready (nothing is known of its capacity).
 */
export function nodeFacts(node: Node): NodeFacts {
  const labels = node.metadata.labels ?? {};
  const name = node.metadata.name;
  const zone = labels[LABEL_ZONE] ?? node.status?.zone ?? DEFAULT_ZONE;
  const region = labels[LABEL_REGION] ?? node.status?.region ?? '';
  const rackLabel = labels[LABEL_RACK] ?? node.status?.rack;
  const disks: DiskFacts[] = [];
  for (const [diskName, spec] of Object.entries(node.spec.disks ?? {})) {
    const st = node.status?.diskStatus?.[diskName];
    disks.push({
      name: diskName,
      ...(st?.diskUUID !== undefined && st.diskUUID !== '' ? { uuid: st.diskUUID } : {}),
      path: spec.path,
      maximumBytes: bytesOr0(st?.storageMaximum),
      availableBytes: bytesOr0(st?.storageAvailable),
      reservedBytes: spec.storageReserved === undefined ? 0 : quantityBytes(spec.storageReserved),
      tags: spec.tags ?? [],
      ready: st !== undefined && conditionTrue(st.conditions, 'Ready'),
      schedulable: spec.allowScheduling !== false && !conditionFalse(st?.conditions, 'Schedulable'),
      evictionRequested: spec.evictionRequested === true,
    });
  }
  disks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    name,
    zone,
    region,
    // A node without a rack is a rack of its own, so the rack level neither helps nor hurts it.
    rack: rackLabel === undefined || rackLabel === '' ? `node:${name}` : rackLabel,
    tags: node.spec.tags ?? [],
    // A node whose agent stopped sending heartbeats keeps its last conditions: agentState says so.
    ready: conditionTrue(node.status?.conditions, 'Ready') && node.status?.agentState !== 'unreachable',
    schedulable: node.spec.allowScheduling !== false && !conditionFalse(node.status?.conditions, 'Schedulable'),
    evictionRequested: node.spec.evictionRequested === true,
    disks,
  };
}

/** Reads the placement facts of a decoded Replica. */
export function replicaInfo(r: Replica): ReplicaInfo {
  const failedAt = r.spec.failedAt ?? '';
  return {
    name: r.metadata.name,
    volumeName: r.spec.volumeName,
    nodeID: r.spec.nodeID,
    diskID: r.spec.diskID,
    sizeBytes: quantityBytes(r.spec.volumeSize),
    failed: failedAt !== '',
    failedAtMs: failedAt === '' ? NaN : Date.parse(failedAt),
    evictionRequested: r.spec.evictionRequested === true,
    running: r.status?.currentState === 'running',
    deleting: r.metadata.deletionTimestamp !== undefined,
  };
}

/** Builds a graph from lists of objects (simulate, tests, the bench); the controller keeps one current from watches. */
export function buildGraph(nodes: readonly Node[], replicas: readonly Replica[]): ClusterGraph {
  const g = new ClusterGraph();
  for (const n of nodes) g.upsertNode(nodeFacts(n));
  for (const r of replicas) g.upsertReplica(replicaInfo(r));
  return g;
}
