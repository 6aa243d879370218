import { basename, resolve } from 'node:path';
import { CommandError, requireFlag, UsageError, type Command, type Invocation } from '../api/cli/command.ts';

/** Parses `--disk` values: `PATH` or `NAME=PATH`; unnamed disks are named disk1, disk2, … */
export function parseDiskFlags(values: readonly string[]): Array<{ name: string; path: string }> {
  const out: Array<{ name: string; path: string }> = [];
  for (const [i, v] of values.entries()) {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : `disk${i + 1}`;
    const path = eq > 0 ? v.slice(eq + 1) : v;
    if (path === '') throw new UsageError(`--disk: expected PATH or NAME=PATH, got "${v}"`);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new UsageError(`--disk: disk name "${name}" must be lower-case letters, digits and "-"`);
    if (out.some((d) => d.name === name)) throw new UsageError(`--disk: disk name "${name}" given twice (${basename(path)})`);
    out.push({ name, path: resolve(path) });
  }
  return out;
}

/** Parses `--port-range LO-HI`. */
export function parsePortRange(v: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new UsageError(`--port-range: expected LO-HI within 1-65535, got "${v}"`);
  return [lo, hi];
}

async function run(inv: Invocation): Promise<number> {
  const node = requireFlag(inv, 'node');
  const disks = parseDiskFlags((inv.values.disk as string[] | undefined) ?? []);
  const portRange = parsePortRange(inv.values['port-range'] as string);
  const { connectStore } = await import('../api/store/connect.ts');
  const { createLogger } = await import('../api/log.ts');
  const { startAgent } = await import('../engine/instances/agent.ts');
  const server = inv.values.server as string | undefined;
  const kubeconfig = inv.values.kubeconfig as string | undefined;
  const namespace = inv.values.namespace as string | undefined;
  let store;
  try {
    store = await connectStore({ ...(server ? { server } : {}), ...(kubeconfig ? { kubeconfig } : {}), ...(namespace ? { namespace } : {}) });
  } catch (e) {
    throw new CommandError(`cannot reach the object store: ${(e as Error).message}`);
  }
  const dataRoot = inv.values['data-root'] as string | undefined;
  const secret = inv.values['cluster-secret-file'] as string | undefined;
  const agent = await startAgent({
    store,
    node,
    disks,
    portRange,
    host: inv.values.host as string,
    log: createLogger('agent'),
    ...(dataRoot ? { dataRoot: resolve(dataRoot) } : {}),
    ...(secret ? { clusterSecretFile: resolve(secret) } : {}),
  });
  await new Promise<void>((r) => (inv.signal.aborted ? r() : inv.signal.addEventListener('abort', () => r(), { once: true })));
  // An agent restart must not stop the volumes it serves: children keep running unless asked.
  await agent.stop({ stopChildren: inv.values['stop-children'] === true });
  return 0;
}

/** `shorthorn agent`: one node's agent (disk manager and instance supervisor) against the object store. */
export const agentCommand: Command = {
  name: 'agent',
  summary: "Run a node's agent: disk manager and replica/engine supervisor",
  usage: '--node NAME --disk [NAME=]PATH ... [--server URL | --kubeconfig FILE]',
  flags: {
    node: { type: 'string', help: 'name of the Node object', placeholder: 'NAME' },
    disk: { type: 'string', multiple: true, help: 'a disk for a new Node object (repeatable)', placeholder: '[NAME=]PATH' },
    server: { type: 'string', help: 'Kubernetes-REST URL of the control plane (dev: printed by dev up)', placeholder: 'URL' },
    kubeconfig: { type: 'string', help: 'kubeconfig file of the cluster', placeholder: 'FILE' },
    namespace: { type: 'string', help: 'namespace of the Shorthorn objects', placeholder: 'NS' },
    'data-root': { type: 'string', help: "the agent's own files (children state, logs, secrets); default ~/.shorthorn/agents/NODE", placeholder: 'DIR' },
    'cluster-secret-file': { type: 'string', help: 'the secret shared by all agents (created if absent); default DATA-ROOT/cluster.secret', placeholder: 'FILE' },
    host: { type: 'string', default: '127.0.0.1', help: 'address replica and engine processes listen on', placeholder: 'ADDR' },
    'port-range': { type: 'string', default: '10000-10999', help: 'ports for replica and engine processes', placeholder: 'LO-HI' },
    'stop-children': { type: 'boolean', help: 'also stop the replicas and engines on exit (default: they keep serving)' },
  },
  run,
};
