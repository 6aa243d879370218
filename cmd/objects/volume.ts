import * as E from 'fp-ts/Either';
import { CommandError, UsageError, type Command, type Invocation } from '../../api/cli/command.ts';
import { API_VERSION } from '../../api/codecs/meta.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import { parseBytes } from '../../api/quantity.ts';
import { CONNECT_FLAGS, storeFor } from '../../api/cli/connect.ts';
import { age, OUTPUT_FLAG, outputFormat, print, table } from './output.ts';

/**
 * Healthy/desired replica count: while an engine runs, its RW replicas; while detached, the
 * replicas whose process runs and that have not failed.
 */
export function replicaCount(v: Volume, replicas: readonly Replica[]): string {
  const modes = Object.values(v.status?.replicaModes ?? {});
  const healthy = modes.length > 0
    ? modes.filter((m) => m === 'RW').length
    : replicas.filter((r) => r.spec.volumeName === v.metadata.name && r.status?.currentState === 'running' && !r.spec.failedAt).length;
  return `${healthy}/${v.spec.numberOfReplicas}`;
}

/** The Scheduled condition's message when the volume could not be placed. */
export function schedulingProblem(v: Volume): string | undefined {
  const c = (v.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Scheduled');
  return c !== undefined && c.status === 'False' ? c.message : undefined;
}

const HEADER = ['NAME', 'SIZE', 'REPLICAS', 'STATE', 'ROBUSTNESS', 'NODE', 'AGE'];

function row(v: Volume, replicas: readonly Replica[]): string[] {
  return [v.metadata.name, v.spec.size, replicaCount(v, replicas), v.status?.state ?? 'creating', v.status?.robustness ?? 'unknown', v.spec.nodeID || '-', age(v.metadata.creationTimestamp)];
}

function name(inv: Invocation, what: string): string {
  const n = inv.positionals[0];
  if (n === undefined) throw new UsageError(`${what} needs a volume NAME`);
  if (inv.positionals.length > 1) throw new UsageError(`unexpected arguments: ${inv.positionals.slice(1).join(' ')}`);
  return n;
}

function tagList(flag: string, v: unknown): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  const tags = v.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (tags.some((t) => !/^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(t))) throw new UsageError(`--${flag}: tags are letters, digits, '-', '_' and '.', separated by commas; got "${v}"`);
  return tags;
}

function intFlag(flag: string, v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${flag}: expected an integer, got "${v}"`);
  return Number(v);
}

/** Builds the Volume a `volume create` invocation asks for; defaults come from admission. */
export function volumeFromFlags(inv: Invocation, volumeName: string): Record<string, unknown> {
  const size = inv.values.size;
  if (typeof size !== 'string') throw new UsageError('--size is required (e.g. --size 10Gi)');
  const parsed = parseBytes(size);
  if (E.isLeft(parsed)) throw new UsageError(`--size: ${parsed.left}`);
  const spec: Record<string, unknown> = { size };
  const replicas = intFlag('replicas', inv.values.replicas);
  if (replicas !== undefined) spec.numberOfReplicas = replicas;
  const timeout = intFlag('stale-replica-timeout', inv.values['stale-replica-timeout']);
  if (timeout !== undefined) spec.staleReplicaTimeout = timeout;
  for (const [flag, field] of [['data-locality', 'dataLocality'], ['access-mode', 'accessMode'], ['frontend', 'frontend']] as const) {
    if (typeof inv.values[flag] === 'string') spec[field] = inv.values[flag];
  }
  const ns = tagList('node-selector', inv.values['node-selector']);
  if (ns) spec.nodeSelector = ns;
  const ds = tagList('disk-selector', inv.values['disk-selector']);
  if (ds) spec.diskSelector = ds;
  return { apiVersion: API_VERSION, kind: 'Volume', metadata: { name: volumeName }, spec };
}

/** The detailed view of `volume get` (table format): the volume, its replicas, and why it is not placed. */
export function describeVolume(v: Volume, replicas: readonly Replica[]): string {
  const lines = [
    `Name:          ${v.metadata.name}`,
    `Size:          ${v.spec.size}`,
    `Replicas:      ${replicaCount(v, replicas)} healthy/desired`,
    `State:         ${v.status?.state ?? 'creating'}`,
    `Robustness:    ${v.status?.robustness ?? 'unknown'}`,
    `Node:          ${v.spec.nodeID || '-'}`,
    `Data locality: ${v.spec.dataLocality}`,
    `Access mode:   ${v.spec.accessMode}`,
    `Frontend:      ${v.spec.frontend}`,
  ];
  const ep = v.status?.endpoint;
  if (ep?.url) lines.push(`Endpoint:      ${ep.url}`);
  const problem = schedulingProblem(v);
  if (problem) lines.push(`Scheduling:    ${problem}`);
  lines.push('');
  if (replicas.length === 0) lines.push('No replicas.');
  else {
    const modes = v.status?.replicaModes ?? {};
    lines.push(table(['REPLICA', 'NODE', 'DISK', 'STATE', 'MODE', 'ADDRESS'], replicas.map((r) => [r.metadata.name, r.spec.nodeID, r.spec.diskID, r.status?.currentState ?? 'pending', modes[r.metadata.name] ?? '-', r.status?.address ?? '-'])).trimEnd());
  }
  return lines.join('\n') + '\n';
}

async function volumeReplicas(inv: Invocation, volumeName: string): Promise<Replica[]> {
  const store = await storeFor(inv);
  return (await store.list('Replica')).items.filter((r) => r.spec.volumeName === volumeName);
}

const CREATE_FLAGS = {
  size: { type: 'string', help: 'size, e.g. 10Gi (rounded up to 2Mi)', placeholder: 'SIZE' },
  replicas: { type: 'string', help: 'number of replicas (default: setting default-replica-count)', placeholder: 'N' },
  'data-locality': { type: 'string', help: 'disabled, best-effort or strict-local', placeholder: 'MODE' },
  'access-mode': { type: 'string', help: 'rwo, rwop or rwx', placeholder: 'MODE' },
  frontend: { type: 'string', help: 'iscsi or blockdev', placeholder: 'FRONTEND' },
  'node-selector': { type: 'string', help: 'node tags every replica node must have, comma-separated', placeholder: 'TAGS' },
  'disk-selector': { type: 'string', help: 'disk tags every replica disk must have, comma-separated', placeholder: 'TAGS' },
  'stale-replica-timeout': { type: 'string', help: 'minutes before a failed replica is replaced', placeholder: 'MIN' },
  'dry-run': { type: 'boolean', help: 'validate and default on the server, store nothing' },
} as const;

/** `shorthorn volume …`: list, get, create, delete (attach and detach are added by the agent part). */
export const volumeCommands: Command[] = [
  {
    name: 'list',
    summary: 'List volumes',
    flags: { ...CONNECT_FLAGS, ...OUTPUT_FLAG },
    run: async (inv) => {
      const fmt = outputFormat(inv);
      const store = await storeFor(inv);
      const replicas = fmt === 'table' ? (await store.list('Replica')).items : [];
      print(inv, fmt, (await store.list('Volume')).items, HEADER, (v) => row(v, replicas), 'VolumeList');
    },
  },
  {
    name: 'get',
    summary: 'Show one volume with its replicas',
    usage: 'NAME [flags]',
    flags: { ...CONNECT_FLAGS, ...OUTPUT_FLAG },
    run: async (inv) => {
      const fmt = outputFormat(inv);
      const n = name(inv, 'volume get');
      const store = await storeFor(inv);
      const v = await store.get('Volume', n);
      if (fmt === 'table') inv.stdout.write(describeVolume(v, await volumeReplicas(inv, n)));
      else print(inv, fmt, v, HEADER, (x) => row(x, []));
    },
  },
  {
    name: 'create',
    summary: 'Create a volume',
    usage: 'NAME --size SIZE [flags]',
    flags: { ...CREATE_FLAGS, ...CONNECT_FLAGS, ...OUTPUT_FLAG } as never,
    run: async (inv) => {
      const fmt = outputFormat(inv);
      const n = name(inv, 'volume create');
      const obj = volumeFromFlags(inv, n);
      const store = await storeFor(inv);
      const created = await store.create('Volume', obj as never, { dryRun: inv.values['dry-run'] === true });
      if (fmt === 'table') inv.stdout.write(`volume.shorthorn.io/${created.metadata.name} ${inv.values['dry-run'] ? 'created (server dry run)' : 'created'}\n`);
      else print(inv, fmt, created, HEADER, (x) => row(x, []));
    },
  },
  {
    name: 'delete',
    summary: 'Delete a volume (its replicas are removed with it)',
    usage: 'NAME [flags]',
    flags: { ...CONNECT_FLAGS },
    run: async (inv) => {
      const n = name(inv, 'volume delete');
      const store = await storeFor(inv);
      const v = await store.delete('Volume', n);
      inv.stdout.write(`volume.shorthorn.io/${n} ${v.metadata.deletionTimestamp ? 'marked for deletion' : 'deleted'}\n`);
    },
  },
];

/** Raised when a waited-for state does not come. */
export function timeoutError(what: string): CommandError {
  return new CommandError(`timed out waiting for ${what}`);
}
