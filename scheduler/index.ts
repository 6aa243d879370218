import type { Command } from '../api/cli/command.ts';

/** The `shorthorn` subcommands this part owns. */
export const commands: readonly Command[] = [];
