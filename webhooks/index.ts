import type { Command } from '../api/cli/command.ts';
import type { Logger } from '../api/log.ts';
import type { Admission, ObjectStore } from '../api/store/port.ts';
import { runChain } from './chain.ts';
import { webhooksCommand } from './command.ts';

export { runChain, type ChainRequest, type ChainResult, type Phase } from './chain.ts';
export { MAX_VOLUME_NAME_LENGTH, MAX_VOLUME_BYTES } from './validate/volume.ts';
export { SIZE_STEP_BYTES, DEFAULT_FRONTEND } from './mutate/volume.ts';
export { generatedDiskName } from './mutate/node.ts';

/**
 * The in-process admission chain (mutate, then validate) that the embedded store calls before every
 * write; the HTTPS server (webhooks/app.ts) runs the same chain, so both modes refuse the same
 * objects with the same messages.
 */
export function createAdmission(deps: { store: Pick<ObjectStore, 'get' | 'list'>; log?: Logger }): Admission {
  return async (req) => (await runChain(deps, req, 'both')).outcome;
}

/** The `shorthorn` subcommands this part owns. */
export const commands: readonly Command[] = [webhooksCommand];
