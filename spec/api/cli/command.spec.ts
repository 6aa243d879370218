import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { CommandError, runCommand, UsageError, parseHostPort, type Command } from '../../../api/cli/command.ts';

function io() {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d));
  err.on('data', (d: Buffer) => (stderr += d));
  return { stdout: out, stderr: err, signal: new AbortController().signal, text: () => ({ stdout, stderr }) };
}

const tree: Command = {
  name: 'sh',
  summary: 'test tree',
  subcommands: [
    { name: 'ok', summary: 'succeeds', flags: { n: { type: 'string', help: 'a number' } }, run: async (inv) => void inv.stdout.write(`n=${String(inv.values.n)} ${inv.positionals.join(',')}\n`) },
    { name: 'fail', summary: 'fails', run: async () => { throw new CommandError('volume "x" is attached\nstack line'); } },
    { name: 'usage', summary: 'usage error', run: async () => { throw new UsageError('--x is required'); } },
  ],
};

describe('the command framework', () => {
  const cases: Array<[string[], number, RegExp, 'stdout' | 'stderr']> = [
    [['ok', '--n', '5', 'a', 'b'], 0, /^n=5 a,b$/m, 'stdout'],
    [['ok', '--n', '-5'], 0, /^n=-5/m, 'stdout'],
    [['fail'], 1, /^sh fail: volume "x" is attached\n$/, 'stderr'],
    [['usage'], 2, /^sh usage: --x is required\n$/, 'stderr'],
    [['nope'], 2, /unknown command "nope" for "sh" \(commands: ok, fail, usage\)/, 'stderr'],
    [['ok', '--bad'], 2, /^sh ok: Unknown option '--bad'\n$/, 'stderr'],
    [['--help'], 0, /Commands:\n  ok\s+succeeds/, 'stdout'],
    [['ok', '--help'], 0, /--n VALUE\s+a number/, 'stdout'],
    [[], 2, /Usage: sh <command>/, 'stderr'],
  ];
  for (const [argv, code, pattern, stream] of cases) {
    it(`sh ${argv.join(' ')} exits ${code}`, async () => {
      const x = io();
      assert.equal(await runCommand(tree, argv, x), code);
      assert.match(x.text()[stream], pattern);
    });
  }
  it('parses HOST:PORT and names the flag when it cannot', () => {
    assert.deepEqual(parseHostPort('listen', '127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseHostPort('listen', '[::1]:9500'), { host: '::1', port: 9500 });
    assert.throws(() => parseHostPort('listen', 'localhost'), /--listen: expected HOST:PORT, got "localhost"/);
    assert.throws(() => parseHostPort('listen', 'h:99999'), /--listen/);
  });
});
