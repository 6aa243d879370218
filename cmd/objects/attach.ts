import * as E from 'fp-ts/Either';
import { UsageError, type Command, type Invocation } from '../../api/cli/command.ts';
import { parseBytes, quantityBytes } from '../../api/quantity.ts';
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

/** `volume attach`, `volume detach` and `volume expand`: change the spec and wait for the engine to follow. */
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
  {
    name: 'expand',
    summary: 'Grow a volume (never shrinks): an attached one grows online, a detached one when next attached',
    usage: 'NAME --size SIZE [flags]',
    flags: {
      size: { type: 'string', help: 'the new size (a multiple of 2Mi, larger than now)', placeholder: 'SIZE' },
      timeout: { type: 'string', help: 'how long to wait for an attached volume to grow', placeholder: 'DURATION', default: '120s' },
      ...CONNECT_FLAGS,
    },
    run: async (inv) => {
      const name = volumeName(inv, 'volume expand');
      const size = inv.values.size;
      if (typeof size !== 'string' || size === '') throw new UsageError('--size is required');
      const bytes = parseBytes(size);
      if (E.isLeft(bytes)) throw new UsageError(`--size: ${bytes.left}`);
      const timeoutMs = durationMs('timeout', inv.values.timeout, 120_000);
      const store = await storeFor(inv);
      // Admission refuses a shrink, a step that is not 2Mi, or a growth some replica's disk has no room for.
      const v = await store.patch('Volume', name, { type: 'merge', value: { spec: { size } } });
      if ((v.spec.nodeID ?? '') === '') {
        inv.stdout.write(`volume.shorthorn.io/${name} expanded to ${v.spec.size}; its replicas grow when it is next attached\n`);
        return;
      }
      const want = quantityBytes(v.spec.size);
      await waitFor(store, 'Engine', `${name}-e-0`, (e) => quantityBytes(e.spec.volumeSize) >= want, {
        timeoutMs,
        what: `volume ${name} to grow to ${v.spec.size}`,
        progress: (e) => (e.status?.message ? `engine: ${e.status.message}` : `engine at ${e.spec.volumeSize}`),
        onProgress: (l) => inv.stderr.write(`volume ${name}: ${l}\n`),
        signal: inv.signal,
      });
      inv.stdout.write(`volume.shorthorn.io/${name} expanded to ${v.spec.size} (online)\n`);
    },
  },
];
