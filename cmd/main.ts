import { runCommand, type Command } from '../api/cli/command.ts';
import { commands as apiCommands } from '../api/index.ts';
import { commands as csiCommands } from '../csi/index.ts';
import { commands as diskmgrCommands } from '../diskmgr/index.ts';
import { commands as engineCommands } from '../engine/index.ts';
import { commands as schedulerCommands } from '../scheduler/index.ts';
import { commands as webhooksCommands } from '../webhooks/index.ts';
import { commands as cmdCommands } from './commands.ts';

/** The whole command tree: every part registers its own subcommands. */
export function rootCommand(): Command {
  const subcommands = [...cmdCommands, ...apiCommands, ...schedulerCommands, ...webhooksCommands, ...engineCommands, ...diskmgrCommands, ...csiCommands].sort((a, b) => a.name.localeCompare(b.name));
  return { name: 'shorthorn', summary: 'Shorthorn: replicated block storage for Kubernetes.', subcommands };
}

/** Entry point: runs argv, returns the exit code. SIGINT/SIGTERM abort the running command. */
export async function main(argv: readonly string[]): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await runCommand(rootCommand(), argv, { stdout: process.stdout, stderr: process.stderr, signal: ac.signal });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
