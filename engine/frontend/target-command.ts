import type { Command, Invocation } from '../../api/cli/command.ts';
import { UsageError, parseHostPort, requireFlag } from '../../api/cli/command.ts';
import * as E from 'fp-ts/Either';
import { parseBytes } from '../../api/quantity.ts';

/**
 * `shorthorn target serve`: an iSCSI target on a plain file (tests, conformance runs, the
 * benchmark). Prints `{"portal": "...", "iqn": "..."}` on stdout once it listens.
 */
export const targetCommand: Command = {
  name: 'target',
  summary: 'Serve an iSCSI target without the engine (file-backed, for tests and benchmarks).',
  subcommands: [
    {
      name: 'serve',
      summary: 'Serve a file as LUN 0 of an iSCSI target until SIGINT/SIGTERM.',
      flags: {
        file: { type: 'string', help: 'backing file (created sparse if missing)', placeholder: 'PATH' },
        size: { type: 'string', help: 'device size, e.g. 1Gi or bytes', placeholder: 'SIZE' },
        listen: { type: 'string', default: '127.0.0.1:3260', help: 'address to listen on (port 0 = any free port)', placeholder: 'HOST:PORT' },
        volume: { type: 'string', default: 'target', help: 'volume name: the target is iqn.2026-11.io.shorthorn:<volume>', placeholder: 'NAME' },
        'chap-user': { type: 'string', help: 'CHAP user the initiator must log in as', placeholder: 'USER' },
        'chap-secret': { type: 'string', help: 'CHAP secret of that user', placeholder: 'SECRET' },
        'mutual-user': { type: 'string', help: 'user the target answers mutual CHAP as', placeholder: 'USER' },
        'mutual-secret': { type: 'string', help: 'secret the target proves in mutual CHAP', placeholder: 'SECRET' },
      },
      run: serve,
    },
  ],
};

function optional(inv: Invocation, name: string): string | undefined {
  const v = inv.values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

async function serve(inv: Invocation): Promise<number> {
  const file = requireFlag(inv, 'file');
  const size = parseBytes(requireFlag(inv, 'size'));
  if (E.isLeft(size)) throw new UsageError(`--size: ${size.left}`);
  const { host, port } = parseHostPort('listen', requireFlag(inv, 'listen'));
  const volume = requireFlag(inv, 'volume');
  const user = optional(inv, 'chap-user');
  const secret = optional(inv, 'chap-secret');
  const mutualUser = optional(inv, 'mutual-user');
  const mutualSecret = optional(inv, 'mutual-secret');
  if ((user === undefined) !== (secret === undefined)) throw new UsageError('--chap-user and --chap-secret go together');
  if ((mutualUser === undefined) !== (mutualSecret === undefined)) throw new UsageError('--mutual-user and --mutual-secret go together');
  if (mutualUser !== undefined && user === undefined) throw new UsageError('mutual CHAP needs --chap-user and --chap-secret too');
  const { FileDevice } = await import('./file-device.ts');
  const { startIscsiTarget } = await import('./index.ts');
  const { createLogger } = await import('../../api/log.ts');
  const log = createLogger('iscsi-target', { fields: { volume } });
  const device = await FileDevice.open(file, size.right);
  const target = await startIscsiTarget({
    volume,
    device,
    host,
    port,
    log,
    ...(user !== undefined && secret !== undefined ? { chap: { user, secret, ...(mutualUser !== undefined ? { mutualUser, mutualSecret } : {}) } } : {}),
  });
  inv.stdout.write(JSON.stringify({ portal: target.portal, iqn: target.iqn }) + '\n');
  await new Promise<void>((resolve) => {
    if (inv.signal.aborted) resolve();
    else inv.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await target.close();
  await device.close();
  return 0;
}
