import type { Command } from '../api/cli/command.ts';
import { CONNECT_FLAGS } from '../api/cli/connect.ts';

export type { PlacementService, PlacementServiceOptions } from './service.ts';

/** Starts the placement controller (and extender): the entry `shorthorn dev up` uses. Lazy, so the CLI stays light. */
export async function startPlacement(opts: import('./service.ts').PlacementServiceOptions): Promise<import('./service.ts').PlacementService> {
  const { startPlacementService } = await import('./service.ts');
  return startPlacementService(opts);
}

/** The flags of `shorthorn placement serve` (also taken by `shorthorn manager`). */
export const SERVE_FLAGS = {
  ...CONNECT_FLAGS,
  'extender-listen': { type: 'string', help: 'serve the scheduler extender on HOST:PORT', placeholder: 'HOST:PORT' },
  'tls-cert': { type: 'string', help: 'PEM certificate for the extender (HTTPS)', placeholder: 'FILE' },
  'tls-key': { type: 'string', help: 'PEM private key for the extender (HTTPS)', placeholder: 'FILE' },
} as const;

/** Runs the placement controller (and extender) until the invocation is aborted: the body of `placement serve`. */
export async function runPlacementServe(inv: import('../api/cli/command.ts').Invocation): Promise<number> {
  return (await import('./cli/serve.ts')).runServe(inv);
}

const OUTPUT = { output: { type: 'string', short: 'o', help: 'output format: text or json', default: 'text', placeholder: 'FORMAT' } } as const;

/** The `shorthorn` subcommands this part owns. */
export const commands: readonly Command[] = [
  {
    name: 'placement',
    summary: 'Replica placement: the controller, the scheduler extender, and tools that show why',
    subcommands: [
      {
        name: 'simulate',
        summary: 'Place the volumes of a JSON file on its nodes, offline, and explain every refusal',
        usage: '--input FILE [-o json]',
        flags: { input: { type: 'string', help: 'JSON file: {"nodes": [...], "replicas": [...], "volumes": [...], "settings": {...}}', placeholder: 'FILE' }, ...OUTPUT },
        run: async (inv) => (await import('./cli/simulate.ts')).runSimulate(inv),
      },
      {
        name: 'explain',
        summary: 'Show where the missing replicas of a volume would go, or why they cannot',
        usage: 'VOLUME [-o json] [--kubeconfig FILE | --server URL]',
        flags: { ...CONNECT_FLAGS, ...OUTPUT },
        run: async (inv) => (await import('./cli/explain.ts')).runExplain(inv),
      },
      {
        name: 'serve',
        summary: 'Run the placement controller and the kube-scheduler extender',
        flags: SERVE_FLAGS,
        run: runPlacementServe,
      },
    ],
  },
];
