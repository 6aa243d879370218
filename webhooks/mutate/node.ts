import { createHash } from 'node:crypto';
import type { JsonPatchOp } from '../../api/store/port.ts';
import type { MutateContext } from '../context.ts';
import { Draft, getIn, isRecord } from '../draft.ts';

/**
 * The name a disk gets when a client adds it without one: `disk-` and the first 8 hex digits of
 * the SHA-256 of its path. Stable (the same path always gets the same name, on every node and in
 * both store modes) and a DNS-1123 label.
 */
export function generatedDiskName(path: string): string {
  return `disk-${createHash('sha256').update(path).digest('hex').slice(0, 8)}`;
}

/**
 * Does this key of spec.disks stand for "no name yet"? An empty key, or the disk's path used as the
 * key (`disks: {"/mnt/d1": {}}`), which is how a client adds a disk it has not named.
 */
export function isPlaceholderDiskKey(key: string): boolean {
  return key === '' || key.startsWith('/');
}

/**
 * Node defaults, on CREATE and UPDATE: a disk under a placeholder key gets its generated name (and
 * its path from the key when it had none); node and disk allowScheduling true, evictionRequested
 * false and tags [] when absent (on UPDATE the stored values first, as for Volumes).
 */
export function mutateNode(ctx: MutateContext): JsonPatchOp[] {
  if (!isRecord(ctx.object)) return [];
  const d = new Draft(ctx.object);
  if (!d.ensureObject(['spec'])) return d.ops;
  const kept = (path: readonly string[]) => (ctx.operation === 'UPDATE' ? getIn(ctx.oldObject, path) ?? undefined : undefined);
  for (const [field, value] of [['allowScheduling', true], ['evictionRequested', false], ['tags', []]] as const) {
    d.setDefault(['spec', field], kept(['spec', field]) ?? value);
  }
  if (!d.ensureObject(['spec', 'disks'])) return d.ops;
  nameDisks(d);
  const disks = d.get(['spec', 'disks']) as Record<string, unknown>;
  for (const key of Object.keys(disks)) {
    if (!isRecord(disks[key])) continue;
    for (const [field, value] of [['allowScheduling', true], ['evictionRequested', false], ['tags', []]] as const) {
      d.setDefault(['spec', 'disks', key, field], kept(['spec', 'disks', key, field]) ?? value);
    }
  }
  return d.ops;
}

function nameDisks(d: Draft): void {
  const disks = d.get(['spec', 'disks']) as Record<string, unknown>;
  for (const key of Object.keys(disks)) {
    const disk = disks[key];
    if (!isPlaceholderDiskKey(key) || !isRecord(disk)) continue;
    const path = typeof disk.path === 'string' && disk.path !== '' ? disk.path : key;
    if (path === '') continue;
    const name = generatedDiskName(path);
    // NOTE: a second disk with the same path would take the same name; leave it under its key, and
    // validation refuses the key (and the duplicate path) with a message.
    if (Object.prototype.hasOwnProperty.call(disks, name)) continue;
    d.remove(['spec', 'disks', key]);
    d.set(['spec', 'disks', name], { ...disk, path });
  }
}
