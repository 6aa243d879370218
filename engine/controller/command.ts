import type { Command, Invocation } from '../../api/cli/command.ts';
import { CommandError, UsageError, parseHostPort, requireFlag } from '../../api/cli/command.ts';

/**
 * `shorthorn engine …`: serve a volume over its replicas, and the control-API clients
 * (add-replica, remove-replica, expand, status). Heavy modules load inside `run`.
 */

const serve: Command = {
  name: 'serve',
  summary: 'Serve a volume: replicate it over its replicas, expose the control API (and an iSCSI target).',
  flags: {
    volume: { type: 'string', help: 'volume name', placeholder: 'NAME' },
    size: { type: 'string', help: 'volume size in bytes or as a quantity (1Gi)', placeholder: 'SIZE' },
    replica: { type: 'string', multiple: true, help: 'a replica address (repeat for each)', placeholder: 'HOST:PORT' },
    'secret-file': { type: 'string', help: "file holding the volume's shared secret", placeholder: 'FILE' },
    control: { type: 'string', help: 'control API address; port 0 picks a free port', placeholder: 'HOST:PORT' },
    frontend: { type: 'string', help: 'frontend to expose: iscsi', placeholder: 'NAME' },
    listen: { type: 'string', help: 'frontend address (with --frontend)', placeholder: 'HOST:PORT' },
    'io-timeout': { type: 'string', default: '8000', help: 'per-I/O timeout in ms before a replica turns ERR', placeholder: 'MS' },
  },
  run: runServe,
};

async function runServe(inv: Invocation): Promise<number> {
  const E = await import('fp-ts/Either');
  const { parseBytes } = await import('../../api/quantity.ts');
  const { createLogger } = await import('../../api/log.ts');
  const { readSecretFile } = await import('../wire/secret.ts');
  const { connectReplica } = await import('../wire/client.ts');
  const { openEngine } = await import('./start.ts');
  const { startControlServer } = await import('./control-server.ts');
  const { checkVolumeSize } = await import('../replica/metadata.ts');

  const volume = requireFlag(inv, 'volume');
  const size = parseBytes(requireFlag(inv, 'size'));
  if (E.isLeft(size)) throw new UsageError(`--size: ${size.left}`);
  const sizeRule = checkVolumeSize(size.right);
  if (sizeRule !== null) throw new UsageError(`--size: ${sizeRule}, got ${size.right} bytes`);
  const replicas = (inv.values.replica as string[] | undefined) ?? [];
  if (replicas.length === 0) throw new UsageError('--replica is required (at least one)');
  for (const r of replicas) parseHostPort('replica', r);
  const control = parseHostPort('control', requireFlag(inv, 'control'));
  const frontend = inv.values.frontend as string | undefined;
  if (frontend !== undefined && frontend !== 'iscsi') throw new UsageError(`--frontend: only "iscsi" is known, got "${frontend}"`);
  const listen = frontend !== undefined ? parseHostPort('listen', requireFlag(inv, 'listen')) : undefined;
  const timeoutMs = Number(inv.values['io-timeout']);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 100) throw new UsageError(`--io-timeout: expected milliseconds ≥ 100, got "${String(inv.values['io-timeout'])}"`);
  let secret: Buffer;
  try {
    secret = await readSecretFile(requireFlag(inv, 'secret-file'));
  } catch (e) {
    throw new CommandError((e as Error).message);
  }
  const log = createLogger('engine', { fields: { volume } });
  const connect = (address: string) => {
    const { host, port } = parseHostPort('replica', address);
    return connectReplica({ host, port, secret, timeoutMs });
  };
  let engine;
  try {
    engine = await openEngine({ volume, sizeBytes: size.right, connect, log, timeoutMs }, replicas);
  } catch (e) {
    throw new CommandError((e as Error).message);
  }
  const closers: Array<() => Promise<void>> = [() => engine.close()];
  try {
    const server = await startControlServer(engine, control.host, control.port);
    closers.unshift(() => server.close());
    const line: Record<string, string> = { control: server.address };
    if (listen !== undefined) {
      const { startIscsiTarget } = await import('../frontend/index.ts');
      const target = await startIscsiTarget({ volume, device: engine, host: listen.host, port: listen.port, log: log.with({ part: 'iscsi' }) });
      closers.unshift(() => target.close());
      line.portal = target.portal;
      line.iqn = target.iqn;
    }
    // One machine-readable line: tests and the node agent parse it to learn the ports.
    inv.stdout.write(JSON.stringify(line) + '\n');
    log.info('engine serving', line);
    await new Promise<void>((resolve) => {
      if (inv.signal.aborted) resolve();
      else inv.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info('engine stopping');
  } catch (e) {
    throw new CommandError((e as Error).message);
  } finally {
    for (const c of closers) await c().catch(() => undefined);
  }
  return 0;
}

function controlUrl(inv: Invocation, path: string): string {
  const { host, port } = parseHostPort('control', requireFlag(inv, 'control'));
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

async function call(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new CommandError(`cannot reach the engine at ${url}: ${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (res.status >= 400) throw new CommandError((body as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`);
  return { status: res.status, body };
}

function onePositional(inv: Invocation): string {
  const [address, ...rest] = inv.positionals;
  if (address === undefined || rest.length > 0) throw new UsageError('expected exactly one replica address (HOST:PORT)');
  parseHostPort('replica', address);
  return address;
}

const controlFlag = { control: { type: 'string', help: "the engine's control API address", placeholder: 'HOST:PORT' } } as const;

const addReplica: Command = {
  name: 'add-replica',
  summary: 'Add a replica to a running engine; it joins WO and is rebuilt in the background.',
  usage: '--control HOST:PORT REPLICA_HOST:PORT',
  flags: controlFlag,
  run: async (inv) => {
    const address = onePositional(inv);
    const r = await call(controlUrl(inv, '/v1/replicas'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address }) });
    inv.stdout.write(`replica ${address} added; ${(r.body as { rebuild?: string }).rebuild ?? ''} rebuild started\n`);
  },
};

const removeReplica: Command = {
  name: 'remove-replica',
  summary: 'Remove a replica from a running engine.',
  usage: '--control HOST:PORT REPLICA_HOST:PORT',
  flags: controlFlag,
  run: async (inv) => {
    const address = onePositional(inv);
    await call(controlUrl(inv, `/v1/replicas/${encodeURIComponent(address)}`), { method: 'DELETE' });
    inv.stdout.write(`replica ${address} removed\n`);
  },
};

const expand: Command = {
  name: 'expand',
  summary: 'Grow a running volume to SIZE (never shrinks); the iSCSI target reports the new capacity.',
  flags: { ...controlFlag, size: { type: 'string', help: 'the new size in bytes or as a quantity (20Gi)', placeholder: 'SIZE' } },
  run: async (inv) => {
    const E = await import('fp-ts/Either');
    const { parseBytes, humanBytes } = await import('../../api/quantity.ts');
    if (inv.positionals.length > 0) throw new UsageError(`unexpected argument "${inv.positionals[0]}" (the size goes in --size)`);
    const size = parseBytes(requireFlag(inv, 'size'));
    if (E.isLeft(size)) throw new UsageError(`--size: ${size.left}`);
    const r = await call(controlUrl(inv, '/v1/expand'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sizeBytes: size.right }) });
    const now = (r.body as { sizeBytes?: number }).sizeBytes ?? size.right;
    inv.stdout.write(`volume is ${humanBytes(now)} (${now} bytes)\n`);
  },
};

const status: Command = {
  name: 'status',
  summary: "Show a running engine's replicas (modes, revisions, rebuild progress).",
  flags: {
    ...controlFlag,
    watch: { type: 'boolean', help: 'redraw every second (progress bars during rebuilds) until interrupted' },
    json: { type: 'boolean', help: 'print the status JSON' },
  },
  run: async (inv) => {
    const E = await import('fp-ts/Either');
    const { decode, formatInputError } = await import('../../api/decode.ts');
    const { EngineStatus } = await import('./status.ts');
    const { renderStatus } = await import('./status-view.ts');
    const url = controlUrl(inv, '/v1/status');
    const fetchStatus = async () => {
      const d = decode(EngineStatus, (await call(url)).body);
      if (E.isLeft(d)) throw new CommandError(`the engine answered an unexpected status: ${formatInputError(d.left)}`);
      return d.right;
    };
    if (inv.values.json === true) {
      inv.stdout.write(JSON.stringify(await fetchStatus(), null, 2) + '\n');
      return;
    }
    if (inv.values.watch !== true) {
      inv.stdout.write(renderStatus(await fetchStatus()));
      return;
    }
    while (!inv.signal.aborted) {
      // ANSI: cursor home, clear screen.
      inv.stdout.write('\u001b[H\u001b[2J' + renderStatus(await fetchStatus(), true));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        inv.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  },
};

/** The `engine` command group. */
export const engineCommand: Command = { name: 'engine', summary: 'The engine: serve a replicated volume, and manage a running one.', subcommands: [serve, addReplica, removeReplica, expand, status] };
