import { UsageError, type Command, type Invocation } from '../../api/cli/command.ts';
import { API_VERSION, LABEL_ZONE } from '../../api/codecs/meta.ts';
import type { Node } from '../../api/codecs/node.ts';
import { humanBytes } from '../../api/quantity.ts';
import { CONNECT_FLAGS, storeFor } from '../../api/cli/connect.ts';
import { OUTPUT_FLAG, outputFormat, print } from './output.ts';

function cond(conds: ReadonlyArray<{ type: string; status: string }> | undefined, type: string): string {
  const c = (conds ?? []).find((x) => x.type === type);
  return c === undefined ? 'Unknown' : c.status === 'True' ? 'True' : 'False';
}

function bytes(s: string | undefined): string {
  return s === undefined ? '-' : humanBytes(Number(s));
}

const HEADER = ['NODE', 'DISK', 'PATH', 'READY', 'SCHEDULABLE', 'USED', 'SCHEDULED', 'MAXIMUM', 'TAGS'];

/** One table row per disk (a node without disks gets one row). */
export function nodeRows(n: Node): string[][] {
  const disks = Object.entries(n.spec.disks ?? {});
  const ready = cond(n.status?.conditions, 'Ready');
  if (disks.length === 0) return [[n.metadata.name, '-', '-', ready, n.spec.allowScheduling === false ? 'False' : cond(n.status?.conditions, 'Schedulable'), '-', '-', '-', (n.spec.tags ?? []).join(',')]];
  return disks.map(([d, spec]) => {
    const st = n.status?.diskStatus?.[d];
    const used = st?.storageMaximum !== undefined && st.storageAvailable !== undefined ? String(Number(st.storageMaximum) - Number(st.storageAvailable)) : undefined;
    const sched = spec.allowScheduling === false || n.spec.allowScheduling === false ? 'False' : cond(st?.conditions, 'Schedulable');
    return [n.metadata.name, d, spec.path, cond(st?.conditions, 'Ready'), sched, bytes(used), bytes(st?.storageScheduled), bytes(st?.storageMaximum), (spec.tags ?? []).join(',')];
  });
}

function printNodes(inv: Invocation, nodes: Node[], single: boolean): void {
  const fmt = outputFormat(inv);
  if (fmt !== 'table') return print(inv, fmt, single ? (nodes[0] as Node) : nodes, HEADER, () => [], 'NodeList');
  print(inv, fmt, nodes.flatMap(nodeRows), HEADER, (r) => r);
}

function nodeName(inv: Invocation, what: string): string {
  const n = inv.positionals[0];
  if (n === undefined) throw new UsageError(`${what} needs a node NAME`);
  return n;
}

/** `shorthorn node …`: list, get, create, delete (cordon, evict and disk management are added by the agent part). */
export const nodeCommands: Command[] = [
  { name: 'list', summary: 'List nodes and their disks', flags: { ...CONNECT_FLAGS, ...OUTPUT_FLAG }, run: async (inv) => printNodes(inv, (await (await storeFor(inv)).list('Node')).items, false) },
  {
    name: 'get',
    summary: 'Show one node and its disks',
    usage: 'NAME [flags]',
    flags: { ...CONNECT_FLAGS, ...OUTPUT_FLAG },
    run: async (inv) => printNodes(inv, [await (await storeFor(inv)).get('Node', nodeName(inv, 'node get'))], true),
  },
  {
    name: 'create',
    summary: 'Register a node with its disks (agents create their own node on start)',
    usage: 'NAME [--disk NAME=PATH]... [flags]',
    flags: {
      disk: { type: 'string', multiple: true, help: 'a disk as NAME=PATH (repeatable)', placeholder: 'NAME=PATH' },
      zone: { type: 'string', help: `zone label (${LABEL_ZONE})`, placeholder: 'ZONE' },
      tags: { type: 'string', help: 'node tags, comma-separated', placeholder: 'TAGS' },
      ...CONNECT_FLAGS,
    },
    run: async (inv) => {
      const n = nodeName(inv, 'node create');
      const disks: Record<string, { path: string; allowScheduling: boolean }> = {};
      for (const d of (inv.values.disk as string[] | undefined) ?? []) {
        const m = /^([a-z0-9][-a-z0-9]*)=(\/.*)$/.exec(d);
        if (!m) throw new UsageError(`--disk: expected NAME=/absolute/path, got "${d}"`);
        disks[m[1] as string] = { path: m[2] as string, allowScheduling: true };
      }
      const labels = typeof inv.values.zone === 'string' ? { [LABEL_ZONE]: inv.values.zone } : undefined;
      const tags = typeof inv.values.tags === 'string' ? inv.values.tags.split(',').filter((t) => t !== '') : [];
      const store = await storeFor(inv);
      await store.create('Node', { apiVersion: API_VERSION, kind: 'Node', metadata: { name: n, ...(labels ? { labels } : {}) }, spec: { allowScheduling: true, disks, tags } } as never);
      inv.stdout.write(`node.shorthorn.io/${n} created\n`);
    },
  },
  {
    name: 'delete',
    summary: 'Delete a node (refused while it holds replicas)',
    usage: 'NAME [flags]',
    flags: { ...CONNECT_FLAGS },
    run: async (inv) => {
      const n = nodeName(inv, 'node delete');
      await (await storeFor(inv)).delete('Node', n);
      inv.stdout.write(`node.shorthorn.io/${n} deleted\n`);
    },
  },
];
