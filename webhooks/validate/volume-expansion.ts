import type { Node } from '../../api/codecs/node.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import { formatBytes, humanBytes, quantityBytes } from '../../api/quantity.ts';
import type { Check, Facts } from '../context.ts';
import { violation, type Finding } from '../findings.ts';
import { isOnDisk } from './node.ts';

/**
 * spec.size grows only when the volume can grow (Longhorn: "expansion only when the volume can
 * expand"): every replica of it is on a disk, and every such disk has room for the growth of the
 * replicas it holds, by the placement rule's own arithmetic — (maximum − reserved) ×
 * storage-over-provisioning-percentage − the nominal sizes of all replicas on the disk. A volume
 * without replicas yet (never attached) grows freely: placement sizes its replicas later.
 */
export const checkExpansion: Check<Volume> = ({ object, old, facts }) => {
  if (old === undefined) return [];
  const before = quantityBytes(old.spec.size);
  const after = quantityBytes(object.spec.size);
  if (after <= before) return [];
  const grow = `cannot grow from ${formatBytes(before)} to ${formatBytes(after)}`;
  const mine = facts.replicas.filter((r) => r.spec.volumeName === object.metadata.name && r.metadata.deletionTimestamp === undefined);
  mine.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const out: Finding[] = [];
  const perDisk = new Map<string, { node: Node; disk: string; replicas: Replica[] }>();
  for (const r of mine) {
    const { nodeID, diskID } = r.spec;
    if (nodeID === '' || diskID === '') {
      out.push(violation('volume-expansion', 'spec.size', `${grow}: replica "${r.metadata.name}" is not on a disk yet`));
      continue;
    }
    const node = facts.nodes.find((n) => n.metadata.name === nodeID);
    const disk = node === undefined ? undefined : Object.keys(node.spec.disks ?? {}).find((d) => isOnDisk(node, d, r));
    if (node === undefined || disk === undefined) {
      out.push(violation('volume-expansion', 'spec.size', `${grow}: the disk of replica "${r.metadata.name}" (${diskID} on node "${nodeID}") is not in the cluster`));
      continue;
    }
    const key = `${nodeID}\u0000${disk}`;
    const group = perDisk.get(key) ?? { node, disk, replicas: [] };
    group.replicas.push(r);
    perDisk.set(key, group);
  }
  for (const g of perDisk.values()) {
    const shortfall = diskShortfall(g.node, g.disk, (after - before) * g.replicas.length, facts);
    if (shortfall !== undefined) out.push(violation('volume-expansion', 'spec.size', `${grow}: ${shortfall} (replica ${g.replicas.map((r) => `"${r.metadata.name}"`).join(', ')})`));
  }
  return out;
};

/** Why `disk` of `node` cannot take `needBytes` more, or undefined when it can. */
function diskShortfall(node: Node, disk: string, needBytes: number, facts: Facts): string | undefined {
  const where = `disk "${disk}" of node "${node.metadata.name}"`;
  const maximum = node.status?.diskStatus?.[disk]?.storageMaximum;
  if (maximum === undefined) return `${where} has not reported its size yet`;
  const reserved = node.spec.disks?.[disk]?.storageReserved;
  const percent = facts.settings['storage-over-provisioning-percentage'];
  const usable = (Number(maximum) - (reserved === undefined ? 0 : quantityBytes(reserved))) * (percent / 100);
  let scheduled = 0;
  for (const r of facts.replicas) if (r.metadata.deletionTimestamp === undefined && isOnDisk(node, disk, r)) scheduled += quantityBytes(r.spec.volumeSize);
  const room = usable - scheduled;
  if (room >= needBytes) return undefined;
  return `${where} has ${humanBytes(Math.max(0, Math.floor(room)))} schedulable left (storage-over-provisioning-percentage ${percent}), the growth needs ${humanBytes(needBytes)}`;
}
