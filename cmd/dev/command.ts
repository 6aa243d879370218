import { parseHostPort, UsageError, type Command } from '../../api/cli/command.ts';
import { defaultDataDir } from '../../api/store/dev-paths.ts';
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
        nodes: { type: 'string', help: 'simulated nodes, each an agent with its own disks', placeholder: 'N', default: '3' },
        'disks-per-node': { type: 'string', help: 'disk folders per node', placeholder: 'N', default: '2' },
        'port-base': { type: 'string', help: 'first port for replica and engine processes (node i uses base+1000i … +999)', placeholder: 'PORT', default: '10000' },
      },
      run: async (inv) => {
        const { startDevCluster } = await import('./cluster.ts');
        const { host, port } = parseHostPort('listen', String(inv.values.listen));
        const dataDir = typeof inv.values.data === 'string' ? inv.values.data : defaultDataDir();
        const log = createLogger('dev');
        const count = (flag: string, min: number, max: number) => {
          const v = String(inv.values[flag]);
          if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}, got "${v}"`);
          return Number(v);
        };
        const nodes = count('nodes', 0, 20);
        const disksPerNode = count('disks-per-node', 1, 8);
        const portBase = count('port-base', 1024, 65535 - 1000 * Math.max(nodes, 1));
        const cluster = await startDevCluster({ dataDir, host, port, log, nodes, disksPerNode, portBase });
        inv.stdout.write(
          [
            `Shorthorn dev cluster is up.`,
            `  API:        ${cluster.url}`,
            `  kubeconfig: ${cluster.kubeconfig}`,
            `  data:       ${cluster.dataDir}`,
            `  logs:       ${cluster.dataDir}/logs`,
            `  nodes:      ${nodes} (node1…node${nodes}), ${disksPerNode} disk folders each under ${cluster.dataDir}/nodes`,
            `Try: npx shorthorn volume create v1 --size 1Gi && npx shorthorn volume attach v1 --node node1`,
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
