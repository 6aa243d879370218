import { resolve } from 'node:path';
import { API_VERSION, LABEL_RACK, LABEL_REGION, LABEL_ZONE } from '../api/codecs/meta.ts';
import type { Node, NodeStatus, DiskStatus, DiskSpec } from '../api/codecs/node.ts';
import type { Replica } from '../api/codecs/replica.ts';
import { quantityBytes } from '../api/quantity.ts';
import { isStoreError } from '../api/store/errors.ts';
import type { JsonPatchOp, ObjectStore } from '../api/store/port.ts';
import { diskConditions, nodeConditions, type DiskObservation } from './conditions.ts';

/** Does this Replica live on this disk? By disk UUID, disk name or path (placement may record any). */
export function isReplicaOnDisk(r: Replica, node: string, disk: { name: string; path: string; uuid: string | undefined }): boolean {
  if (r.spec.nodeID !== node) return false;
  if (disk.uuid !== undefined && disk.uuid !== '' && r.spec.diskID === disk.uuid) return true;
  if (r.spec.diskID === disk.name) return true;
  return r.spec.diskPath !== '' && resolve(r.spec.diskPath) === resolve(disk.path);
}

/** Builds one disk's status from what was observed and the Replicas scheduled on it. */
export function buildDiskStatus(node: string, name: string, spec: DiskSpec, obs: DiskObservation, replicas: readonly Replica[], minimalAvailablePercent: number, previous: DiskStatus | undefined, now: string): DiskStatus {
  const uuid = obs.identity._tag === 'Ok' ? obs.identity.diskUUID : previous?.diskUUID;
  const scheduledReplica: Record<string, string> = {};
  let scheduled = 0;
  for (const r of replicas) {
    if (!isReplicaOnDisk(r, node, { name, path: spec.path, uuid })) continue;
    const bytes = quantityBytes(r.spec.volumeSize);
    scheduledReplica[r.metadata.name] = String(bytes);
    scheduled += bytes;
  }
  return {
    ...(uuid !== undefined ? { diskUUID: uuid } : {}),
    diskPath: spec.path,
    storageMaximum: String(obs.capacity?.maximumBytes ?? 0),
    storageAvailable: String(obs.capacity?.availableBytes ?? 0),
    storageScheduled: String(scheduled),
    scheduledReplica,
    conditions: diskConditions(obs, minimalAvailablePercent, previous?.conditions, now),
  };
}

/** The part of Node.status the disk manager owns: per-disk status, node conditions, and topology mirrored from labels. */
export function buildNodeStatus(node: Node, disks: Readonly<Record<string, DiskStatus>>, now: string): NodeStatus {
  const labels = node.metadata.labels ?? {};
  const status: NodeStatus = {
    diskStatus: { ...disks },
    conditions: nodeConditions(node.spec.allowScheduling !== false, node.status?.conditions, now),
  };
  const zone = labels[LABEL_ZONE];
  const region = labels[LABEL_REGION];
  const rack = labels[LABEL_RACK];
  if (zone !== undefined) status.zone = zone;
  if (region !== undefined) status.region = region;
  if (rack !== undefined) status.rack = rack;
  return status;
}

/** The Node.status fields the disk manager writes; the others have writers of their own. */
const OWNED = ['diskStatus', 'conditions', 'zone', 'region', 'rack'] as const;

/**
 * Writes the disk manager's fields of Node.status and leaves the rest alone: lastHeartbeatTime
 * (the agent's heartbeat) and agentState (the cluster's liveness loop) are written by others, and a
 * whole-status write here erased them on every pass, so nodes flapped to unreachable. `current` is
 * the Node as last read: an owned field it has that `status` lacks (a label removed) is removed.
 */
export async function writeNodeStatus(store: ObjectStore, name: string, status: NodeStatus, current: Node): Promise<Node> {
  if (current.status === undefined) {
    return store.patch('Node', name, { type: 'json', ops: [{ op: 'add', path: '/status', value: status }] }, { subresource: 'status' });
  }
  const ops: JsonPatchOp[] = [];
  for (const key of OWNED) {
    const value = status[key];
    if (value !== undefined) ops.push({ op: 'add', path: `/status/${key}`, value });
    else if (current.status[key] !== undefined) ops.push({ op: 'remove', path: `/status/${key}` });
  }
  return store.patch('Node', name, { type: 'json', ops }, { subresource: 'status' });
}

/**
 * Gets this node's Node object, creating it with the given disks when absent. Existing objects
 * are left alone: after creation, `node disk add|remove` owns spec.disks.
 */
export async function ensureNode(store: ObjectStore, name: string, disks: Readonly<Record<string, DiskSpec>>): Promise<Node> {
  try {
    return await store.get('Node', name);
  } catch (e) {
    if (!isStoreError(e, 'NotFound')) throw e;
  }
  try {
    return await store.create('Node', { apiVersion: API_VERSION, kind: 'Node', metadata: { name }, spec: { disks: { ...disks }, allowScheduling: true } });
  } catch (e) {
    if (isStoreError(e, 'AlreadyExists')) return store.get('Node', name);
    throw e;
  }
}
