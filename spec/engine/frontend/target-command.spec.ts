import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runCommand } from '../../../api/cli/command.ts';
import { targetCommand } from '../../../engine/frontend/target-command.ts';

async function invoke(argv: string[]): Promise<{ code: number; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: string[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c.toString()));
  const code = await runCommand(targetCommand, argv, { stdout, stderr, signal: AbortSignal.abort() }, 'shorthorn target');
  return { code, stderr: chunks.join('') };
}

describe('shorthorn target serve flags', () => {
  const cases: Array<{ name: string; argv: string[]; message: RegExp }> = [
    { name: 'no --file', argv: ['serve', '--size', '1Mi'], message: /--file is required/ },
    { name: 'no --size', argv: ['serve', '--file', '/tmp/x'], message: /--size is required/ },
    { name: 'a size that is not a quantity', argv: ['serve', '--file', '/tmp/x', '--size', 'lots'], message: /--size/ },
    { name: 'a bad --listen', argv: ['serve', '--file', '/tmp/x', '--size', '1Mi', '--listen', 'nowhere'], message: /--listen: expected HOST:PORT/ },
    { name: 'a CHAP user without a secret', argv: ['serve', '--file', '/tmp/x', '--size', '1Mi', '--chap-user', 'u'], message: /--chap-user and --chap-secret go together/ },
    { name: 'mutual CHAP without one-way CHAP', argv: ['serve', '--file', '/tmp/x', '--size', '1Mi', '--mutual-user', 'm', '--mutual-secret', 's'], message: /mutual CHAP needs --chap-user/ },
  ];
  for (const c of cases) {
    it(`exits 2 with a message naming the flag for ${c.name}`, async () => {
      const r = await invoke(c.argv);
      assert.equal(r.code, 2);
      assert.match(r.stderr, c.message);
    });
  }
});
