import { posix } from 'node:path';
import { Dns1123Label, Dns1123Subdomain } from '../../api/decode.ts';
import type { Node } from '../../api/codecs/node.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import { formatBytes, quantityBytes } from '../../api/quantity.ts';
import type { Check, DeleteCheck } from '../context.ts';
import { show, violation, type Finding } from '../findings.ts';
import { checkTags } from './tags.ts';

/** A disk's path for comparison: normalised, without a trailing slash. */
function normalPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function listed(names: readonly string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** metadata.name: a DNS-1123 subdomain (as Kubernetes node names are). */
export const checkNodeName: Check<Node> = ({ operation, object }) => {
  if (operation !== 'CREATE' || Dns1123Subdomain.is(object.metadata.name)) return [];
  return [violation('node-name', 'metadata.name', `expected ${Dns1123Subdomain.name}, got ${show(object.metadata.name)}`)];
};

/** Disks: names are DNS-1123 labels; paths absolute and unique; storageReserved within the disk's maximum; tags. */
export const checkDisks: Check<Node> = ({ object }) => {
  const out: Finding[] = [];
  const byPath = new Map<string, string>();
  for (const [name, disk] of Object.entries(object.spec.disks ?? {})) {
    const at = `spec.disks.${name}`;
    if (!Dns1123Label.is(name)) out.push(violation('disk-name', at, `disk name: expected ${Dns1123Label.name}, got ${show(name)}`));
    if (!disk.path.startsWith('/')) {
      out.push(violation('disk-path', `${at}.path`, `expected an absolute path, got ${show(disk.path)}`));
    } else {
      const p = normalPath(disk.path);
      const other = byPath.get(p);
      if (other !== undefined) out.push(violation('disk-path', `${at}.path`, `${show(disk.path)} is already the path of disk ${other}`));
      else byPath.set(p, name);
    }
    const max = object.status?.diskStatus?.[name]?.storageMaximum;
    if (disk.storageReserved !== undefined && max !== undefined) {
      const reserved = quantityBytes(disk.storageReserved);
      if (reserved > Number(max)) out.push(violation('disk-reserved', `${at}.storageReserved`, `expected at most the disk's maximum ${formatBytes(Number(max))}, got ${disk.storageReserved}`));
    }
    out.push(...checkTags(`${at}.tags`, disk.tags));
  }
  out.push(...checkTags('spec.tags', object.spec.tags));
  return out;
};

/** Eviction requires scheduling disabled first, on the node and on each disk. */
export const checkEviction: Check<Node> = ({ object }) => {
  const out: Finding[] = [];
  if (object.spec.evictionRequested === true && object.spec.allowScheduling !== false) {
    out.push(violation('eviction', 'spec.evictionRequested', 'true requires spec.allowScheduling false first (scheduling is still allowed on the node)'));
  }
  for (const [name, disk] of Object.entries(object.spec.disks ?? {})) {
    if (disk.evictionRequested === true && disk.allowScheduling !== false) {
      out.push(violation('eviction', `spec.disks.${name}.evictionRequested`, `true requires spec.disks.${name}.allowScheduling false first (scheduling is still allowed on the disk)`));
    }
  }
  return out;
};

/** Whether a replica is kept on one disk of a node (matched by disk UUID, name or path). */
export function isOnDisk(node: Node, diskName: string, r: Replica): boolean {
  if (r.spec.nodeID !== node.metadata.name) return false;
  const uuid = node.status?.diskStatus?.[diskName]?.diskUUID;
  const path = node.spec.disks?.[diskName]?.path;
  return (uuid !== undefined && r.spec.diskID === uuid) || r.spec.diskID === diskName || (path !== undefined && r.spec.diskPath === path);
}

/** The replicas kept on one disk of a node (matched by disk UUID, name or path). */
export function replicasOnDisk(node: Node, diskName: string, replicas: readonly Replica[]): string[] {
  const names = new Set(Object.keys(node.status?.diskStatus?.[diskName]?.scheduledReplica ?? {}));
  for (const r of replicas) if (isOnDisk(node, diskName, r)) names.add(r.metadata.name);
  return [...names].sort();
}

/** A disk can be removed only when scheduling on it was disabled and it holds no replica. */
export const checkDiskRemoval: Check<Node> = ({ object, old, facts }) => {
  if (old === undefined) return [];
  const out: Finding[] = [];
  for (const [name, disk] of Object.entries(old.spec.disks ?? {})) {
    if (object.spec.disks?.[name] !== undefined) continue;
    if (disk.allowScheduling !== false) {
      out.push(violation('disk-removal', `spec.disks.${name}`, 'cannot remove a disk while scheduling is allowed on it; set its allowScheduling false first', 403));
    }
    const held = replicasOnDisk(old, name, facts.replicas);
    if (held.length > 0) out.push(violation('disk-removal', `spec.disks.${name}`, `cannot remove a disk that holds ${held.length} replica(s) (${listed(held)}); evict them first`, 403));
  }
  return out;
};

/** A node that still holds replicas cannot be deleted. */
export const checkNodeDelete: DeleteCheck<Node> = ({ name, old, facts }) => {
  const held = [...new Set([...facts.replicas.filter((r) => r.spec.nodeID === name).map((r) => r.metadata.name), ...Object.keys(old.spec.disks ?? {}).flatMap((d) => replicasOnDisk(old, d, []))])].sort();
  if (held.length === 0) return [];
  return [violation('node-delete', 'metadata.name', `node "${name}" cannot be deleted: it holds ${held.length} replica(s) (${listed(held)}); evict them first`, 403)];
};

/** Every Node rule on CREATE and UPDATE. */
export const NODE_CHECKS: readonly Check<Node>[] = [checkNodeName, checkDisks, checkEviction, checkDiskRemoval];
