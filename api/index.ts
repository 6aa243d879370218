import type { Command } from './cli/command.ts';

export * from './codecs/meta.ts';
export * from './codecs/volume.ts';
export * from './codecs/replica.ts';
export * from './codecs/engine.ts';
export * from './codecs/node.ts';
export * from './codecs/setting.ts';
export * from './kinds.ts';
export * from './quantity.ts';
export * from './decode.ts';
export * from './settings.ts';
export * from './log.ts';
export * from './cli/command.ts';
export * from './store/port.ts';
export * from './store/errors.ts';
export { EmbeddedStore, type EmbeddedStoreOptions } from './store/embedded.ts';
export { CorruptStoreError } from './store/wal.ts';
export { parseSelector, matchesSelector } from './store/label-selector.ts';
export { applyPatch } from './store/patch.ts';

/** The `shorthorn` subcommands the api part owns (none: the object CLI lives in cmd/). */
export const commands: readonly Command[] = [];
