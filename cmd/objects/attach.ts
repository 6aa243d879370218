import { UsageError, type Command, type Invocation } from '../../api/cli/command.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import { CONNECT_FLAGS, storeFor } from '../../api/cli/connect.ts';
import { waitFor } from './wait.ts';

function durationMs(flag: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const m = typeof v === 'string' ? /^(\d+)(ms|s|m)?$/.exec(v) : null;
  if (!m) throw new UsageError(`--${flag}: expected a duration like 90s or 2m, got "${String(v)}"`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function volumeName(inv: Invocation, what: string): string {
  const n = inv.positionals[0];
  if (n === undefined) throw new UsageError(`${what} needs a volume NAME`);
  return n;
}

const progress = (v: Volume) => `state ${v.status?.state ?? 'creating'}, robustness ${v.status?.robustness ?? 'unknown'}`;

/** `volume attach` and `volume detach`: change spec.nodeID and wait for the engine to follow. */
export const attachCommands: Command[] = [
  {
    name: 'attach',
    summary: 'Attach a volume to a node and print its iSCSI portal, IQN and URL',
    usage: 'NAME --node NODE [flags]',
    flags: {
      node: { type: 'string', help: 'the node to attach to', placeholder: 'NODE' },
      timeout: { type: 'string', help: 'how long to wait', placeholder: 'DURATION', default: '120s' },
      ...CONNECT_FLAGS,
    },
    run: async (inv) => {
      const name = volumeName(inv, 'volume attach');
      const node = inv.values.node;
      if (typeof node !== 'string' || node === '') throw new UsageError('--node is required');
      const timeoutMs = durationMs('timeout', inv.values.timeout, 120_000);
      const store = await storeFor(inv);
      await store.patch('Volume', name, { type: 'merge', value: { spec: { nodeID: node } } });
      const v = await waitFor(store, 'Volume', name, (o) => o.status?.state === 'attached' && o.status.endpoint?.url !== undefined && o.status.currentNodeID === node, {
        timeoutMs,
        what: `volume ${name} to attach to ${node}`,
        progress,
        onProgress: (l) => inv.stderr.write(`volume ${name}: ${l}\n`),
        signal: inv.signal,
      });
      const ep = v.status?.endpoint ?? {};
      inv.stdout.write(`portal: ${ep.portal}\niqn:    ${ep.iqn}\nurl:    ${ep.url}\n`);
    },
  },
  {
    name: 'detach',
    summary: 'Detach a volume and wait until its engine is stopped',
    usage: 'NAME [flags]',
    flags: { timeout: { type: 'string', help: 'how long to wait', placeholder: 'DURATION', default: '120s' }, ...CONNECT_FLAGS },
    run: async (inv) => {
      const name = volumeName(inv, 'volume detach');
      const timeoutMs = durationMs('timeout', inv.values.timeout, 120_000);
      const store = await storeFor(inv);
      await store.patch('Volume', name, { type: 'merge', value: { spec: { nodeID: '' } } });
      await waitFor(store, 'Volume', name, (o) => o.status?.state === 'detached', {
        timeoutMs,
        what: `volume ${name} to detach`,
        progress,
        onProgress: (l) => inv.stderr.write(`volume ${name}: ${l}\n`),
        signal: inv.signal,
      });
      inv.stdout.write(`volume.shorthorn.io/${name} detached\n`);
    },
  },
];
