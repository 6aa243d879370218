import type { Command } from '../api/cli/command.ts';
import { engineCommand } from './controller/command.ts';
import { replicaCommand } from './replica/command.ts';
import { targetCommand } from './frontend/target-command.ts';

export type { BlockDevice } from './block-device.ts';
export { BlockIoError } from './block-device.ts';

/** The `shorthorn` subcommands this part owns (replica, engine, target). */
export const commands: readonly Command[] = [targetCommand, replicaCommand, engineCommand];
