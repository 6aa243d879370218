import type { Command, Invocation } from '../../api/cli/command.ts';
import { CommandError, UsageError, parseHostPort, requireFlag } from '../../api/cli/command.ts';

/** `shorthorn replica serve`: serve one replica directory over the replica protocol. */
const serve: Command = {
  name: 'serve',
  summary: 'Serve a replica directory to the engine (creates the store if absent).',
  flags: {
    dir: { type: 'string', help: 'replica directory', placeholder: 'DIR' },
    size: { type: 'string', help: 'volume size in bytes or as a quantity (1Gi)', placeholder: 'SIZE' },
    listen: { type: 'string', help: 'address to listen on; port 0 picks a free port', placeholder: 'HOST:PORT' },
    'secret-file': { type: 'string', help: "file holding the volume's shared secret", placeholder: 'FILE' },
    'allow-grow': { type: 'boolean', help: 'grow an existing store smaller than --size to it (the volume was expanded while this replica was away); never shrinks' },
  },
  run: runServe,
};

/** The `replica` command group. */
export const replicaCommand: Command = { name: 'replica', summary: 'Replica processes: the on-disk store and its server.', subcommands: [serve] };

async function runServe(inv: Invocation): Promise<number> {
  const E = await import('fp-ts/Either');
  const { parseBytes } = await import('../../api/quantity.ts');
  const { createLogger } = await import('../../api/log.ts');
  const { readSecretFile } = await import('../wire/secret.ts');
  const { openStore, describeStoreError } = await import('./store-open.ts');
  const { startReplicaServer } = await import('./server.ts');

  const dir = requireFlag(inv, 'dir');
  const size = parseBytes(requireFlag(inv, 'size'));
  if (E.isLeft(size)) throw new UsageError(`--size: ${size.left}`);
  const listen = parseHostPort('listen', requireFlag(inv, 'listen'));
  const secretPath = requireFlag(inv, 'secret-file');
  const log = createLogger('replica', { fields: { dir } });

  let secret: Buffer;
  try {
    secret = await readSecretFile(secretPath);
  } catch (e) {
    throw new CommandError((e as Error).message);
  }
  let opened;
  try {
    opened = await openStore({ dir, sizeBytes: size.right, log, allowGrow: inv.values['allow-grow'] === true });
  } catch (e) {
    throw new CommandError(`cannot open replica ${dir}: ${(e as Error).message}`);
  }
  if (E.isLeft(opened)) throw new CommandError(describeStoreError(opened.left));
  const store = opened.right;
  let server;
  try {
    server = await startReplicaServer({ backend: store, secret, host: listen.host, port: listen.port, log });
  } catch (e) {
    await store.close();
    throw new CommandError(`cannot listen on ${listen.host}:${listen.port}: ${(e as Error).message}`);
  }
  // One machine-readable line: the engine tests and the node agent parse it to learn the port.
  inv.stdout.write(JSON.stringify({ listening: server.address, replicaId: store.info().replicaId }) + '\n');
  log.info('replica serving', { address: server.address });
  await new Promise<void>((resolve) => {
    if (inv.signal.aborted) resolve();
    else inv.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log.info('replica stopping');
  await server.close();
  await store.close();
  return 0;
}
