// Runs every spec file under spec/ with node's built-in test runner (through tsx), so the runner's
// own summary is the last thing printed. Arguments narrow the run: `npm test -- spec/api`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findSpecs(dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...findSpecs(p));
    else if (p.endsWith('.spec.ts')) out.push(p);
  }
  return out;
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = (roots.length > 0 ? roots : ['spec']).flatMap((r) => (r.endsWith('.ts') ? [r] : findSpecs(r)));
if (files.length === 0) {
  console.error('no spec files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
