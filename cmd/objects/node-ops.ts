import * as E from 'fp-ts/Either';
import { UsageError, type Command, type Invocation } from '../../api/cli/command.ts';
import { parseBytes } from '../../api/quantity.ts';
import { CONNECT_FLAGS, storeFor } from '../../api/cli/connect.ts';

function positional(inv: Invocation, i: number, what: string): string {
  const v = inv.positionals[i];
  if (v === undefined) throw new UsageError(`needs ${what}`);
  return v;
}

function tags(v: unknown): string[] | undefined {
  return typeof v === 'string' ? v.split(',').map((t) => t.trim()).filter((t) => t !== '') : undefined;
}

function reserved(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const r = parseBytes(v);
  if (E.isLeft(r)) throw new UsageError(`--reserved: ${r.left}`);
  return v;
}

function onOff(flag: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'enable' || v === 'true') return true;
  if (v === 'disable' || v === 'false') return false;
  throw new UsageError(`--${flag}: expected enable or disable, got "${String(v)}"`);
}

async function patchNode(inv: Invocation, node: string, value: Record<string, unknown>, done: string): Promise<void> {
  await (await storeFor(inv)).patch('Node', node, { type: 'merge', value: { spec: value } });
  inv.stdout.write(`node.shorthorn.io/${node} ${done}\n`);
}

const DISK_FLAGS = {
  tags: { type: 'string', help: 'disk tags, comma-separated', placeholder: 'TAGS' },
  reserved: { type: 'string', help: 'space kept free for other uses, e.g. 10Gi', placeholder: 'SIZE' },
} as const;

/** `node disk add|remove|update`: disks are entries of Node.spec.disks; admission guards removal. */
export const diskCommands: Command[] = [
  {
    name: 'add',
    summary: 'Add a disk to a node',
    usage: 'NODE DISK --path PATH [flags]',
    flags: { path: { type: 'string', help: 'absolute path of the disk’s filesystem', placeholder: 'PATH' }, ...DISK_FLAGS, ...CONNECT_FLAGS },
    run: async (inv) => {
      const node = positional(inv, 0, 'a NODE');
      const disk = positional(inv, 1, 'a DISK name');
      if (typeof inv.values.path !== 'string') throw new UsageError('--path is required');
      const d: Record<string, unknown> = { path: inv.values.path, allowScheduling: true };
      const t = tags(inv.values.tags);
      if (t) d.tags = t;
      const r = reserved(inv.values.reserved);
      if (r) d.storageReserved = r;
      await patchNode(inv, node, { disks: { [disk]: d } }, `disk ${disk} added`);
    },
  },
  {
    name: 'remove',
    summary: 'Remove a disk (allowed once scheduling is disabled on it and it holds no replica)',
    usage: 'NODE DISK [flags]',
    flags: { ...CONNECT_FLAGS },
    run: async (inv) => {
      const node = positional(inv, 0, 'a NODE');
      const disk = positional(inv, 1, 'a DISK name');
      await patchNode(inv, node, { disks: { [disk]: null } }, `disk ${disk} removed`);
    },
  },
  {
    name: 'update',
    summary: 'Change a disk: scheduling, eviction, tags, reserved space',
    usage: 'NODE DISK [flags]',
    flags: {
      scheduling: { type: 'string', help: 'enable or disable new replicas on the disk', placeholder: 'enable|disable' },
      evict: { type: 'string', help: 'enable moves every replica off the disk (scheduling must be disabled)', placeholder: 'enable|disable' },
      ...DISK_FLAGS,
      ...CONNECT_FLAGS,
    },
    run: async (inv) => {
      const node = positional(inv, 0, 'a NODE');
      const disk = positional(inv, 1, 'a DISK name');
      const d: Record<string, unknown> = {};
      const s = onOff('scheduling', inv.values.scheduling);
      if (s !== undefined) d.allowScheduling = s;
      const ev = onOff('evict', inv.values.evict);
      if (ev !== undefined) d.evictionRequested = ev;
      const t = tags(inv.values.tags);
      if (t) d.tags = t;
      const r = reserved(inv.values.reserved);
      if (r) d.storageReserved = r;
      if (Object.keys(d).length === 0) throw new UsageError('nothing to change: give --scheduling, --evict, --tags or --reserved');
      await patchNode(inv, node, { disks: { [disk]: d } }, `disk ${disk} updated`);
    },
  },
];

/** `node cordon|uncordon|evict`. */
export const nodeOpsCommands: Command[] = [
  { name: 'cordon', summary: 'Stop placing new replicas on a node', usage: 'NODE', flags: { ...CONNECT_FLAGS }, run: async (inv) => patchNode(inv, positional(inv, 0, 'a NODE'), { allowScheduling: false }, 'cordoned') },
  { name: 'uncordon', summary: 'Allow new replicas on a node again (and stop an eviction)', usage: 'NODE', flags: { ...CONNECT_FLAGS }, run: async (inv) => patchNode(inv, positional(inv, 0, 'a NODE'), { allowScheduling: true, evictionRequested: false }, 'uncordoned') },
  { name: 'evict', summary: 'Cordon a node and move every replica off it, one at a time', usage: 'NODE', flags: { ...CONNECT_FLAGS }, run: async (inv) => patchNode(inv, positional(inv, 0, 'a NODE'), { allowScheduling: false, evictionRequested: true }, 'cordoned, eviction requested') },
  { name: 'disk', summary: 'Add, remove and update the disks of a node', subcommands: diskCommands },
];
