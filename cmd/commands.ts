import type { Command } from '../api/cli/command.ts';
import { agentCommand } from './agent.ts';
import { devCommand } from './dev/command.ts';
import { managerCommand } from './manager.ts';
import { attachCommands } from './objects/attach.ts';
import { nodeOpsCommands } from './objects/node-ops.ts';
import { nodeCommands } from './objects/node.ts';
import { settingCommands } from './objects/setting.ts';
import { volumeCommands } from './objects/volume.ts';

/** Commands that compose several parts: the local cluster and the object CLI. */
export const commands: readonly Command[] = [
  devCommand,
  managerCommand,
  agentCommand,
  { name: 'volume', summary: 'Create, inspect and delete volumes', subcommands: [...volumeCommands, ...attachCommands] },
  { name: 'node', summary: 'Inspect and register storage nodes and their disks', subcommands: [...nodeCommands, ...nodeOpsCommands] },
  { name: 'setting', summary: 'Read and change cluster settings', subcommands: settingCommands },
];
