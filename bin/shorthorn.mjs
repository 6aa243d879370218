#!/usr/bin/env node
// The `shorthorn` executable: loads the TypeScript entry point through tsx, so there is no build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../cmd/main.ts');
process.exitCode = await main(process.argv.slice(2));
