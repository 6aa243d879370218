/**
 * Prints the libiscsi tally for any LUN, measured exactly as spec/conformance/libiscsi.spec.ts
 * measures Shorthorn (used for tgt's row in docs/iscsi-conformance.md):
 *   node --import tsx spec/conformance/tally.ts iscsi://127.0.0.1:3260/iqn.…/1
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iscsiTestCuArgs, runIscsiTestCu } from './libiscsi-run.ts';

const url = process.argv[2];
if (url === undefined || !url.startsWith('iscsi://')) {
  console.error('usage: tally.ts iscsi://HOST:PORT/IQN/LUN');
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), 'libiscsi-tally-'));
try {
  const r = await runIscsiTestCu({ url, multipathUrl: url, cwd: dir, timeoutMs: 600_000 });
  console.log(`iscsi-test-cu ${iscsiTestCuArgs({ url, multipathUrl: url }).join(' ')}`);
  console.log(`tests run ${r.run}, passed ${r.passed}, failed ${r.failed}, [SKIPPED] lines ${r.skippedLines}, not implemented ${r.notImplementedLines}`);
  for (const t of r.tests.filter((x) => !x.passed)) console.log(`FAILED ${t.name} (${t.failures.join(', ')})`);
  for (const l of r.stdout.split('\n').filter((x) => x.includes('[SKIPPED]'))) console.log(l.trim());
} finally {
  await rm(dir, { recursive: true, force: true });
}
