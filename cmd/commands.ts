import type { Command } from '../api/cli/command.ts';

/** Commands that compose several parts (dev up lives here). */
export const commands: readonly Command[] = [];
