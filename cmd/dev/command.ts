import { parseHostPort, type Command } from '../../api/cli/command.ts';
import { defaultDataDir } from '../../api/store/connect.ts';
import { createLogger } from '../../api/log.ts';

/** `shorthorn dev up`: the whole cluster on this machine, in the foreground until Ctrl-C. */
export const devCommand: Command = {
  name: 'dev',
  summary: 'Run a local Shorthorn cluster on 127.0.0.1',
  subcommands: [
    {
      name: 'up',
      summary: 'Start the local control plane (embedded store with admission, REST API) and stay in the foreground',
      flags: {
        data: { type: 'string', help: 'data directory (default $SHORTHORN_DATA or ./.shorthorn)', placeholder: 'DIR' },
        listen: { type: 'string', help: 'address of the API', placeholder: 'HOST:PORT', default: '127.0.0.1:9500' },
      },
      run: async (inv) => {
        const { startDevCluster } = await import('./cluster.ts');
        const { host, port } = parseHostPort('listen', String(inv.values.listen));
        const dataDir = typeof inv.values.data === 'string' ? inv.values.data : defaultDataDir();
        const log = createLogger('dev');
        const cluster = await startDevCluster({ dataDir, host, port, log });
        inv.stdout.write(
          [
            `Shorthorn dev cluster is up.`,
            `  API:        ${cluster.url}`,
            `  kubeconfig: ${cluster.kubeconfig}`,
            `  data:       ${cluster.dataDir}`,
            `  logs:       ${cluster.dataDir}/logs`,
            `Try: npx shorthorn volume create v1 --size 1Gi && npx shorthorn volume get v1 -o json`,
            `(from another directory: export SHORTHORN_KUBECONFIG=${cluster.kubeconfig})`,
            `Ctrl-C stops it; it starts again on the same data.`,
            '',
          ].join('\n'),
        );
        await new Promise<void>((resolve) => {
          if (inv.signal.aborted) resolve();
          inv.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        inv.stdout.write('Stopping…\n');
        await cluster.stop();
        inv.stdout.write('Stopped.\n');
      },
    },
  ],
};
