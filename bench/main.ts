/**
 * `npm run bench -- NAME [args]` runs bench/NAME.ts. Benchmarks print figures and ratios against an
 * anchor measured in the same run; they never pass or fail on time.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'main.ts').map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${names.join('|')}> [args]\n`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { run(args: string[]): Promise<void> };
await mod.run(args);
