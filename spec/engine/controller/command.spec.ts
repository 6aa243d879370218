import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { runCommand } from '../../../api/cli/command.ts';
import { engineCommand } from '../../../engine/controller/command.ts';
import { startControlServer } from '../../../engine/controller/control-server.ts';
import { memoryEngine } from './engine-fixture.ts';

async function runEngine(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await runCommand(engineCommand, argv, { stdout: out, stderr: err, signal: new AbortController().signal }, 'shorthorn engine');
  return { code, stderr, stdout };
}

describe('shorthorn engine (flags)', () => {
  const base = ['serve', '--volume', 'v', '--size', '1Gi', '--secret-file', '/nonexistent', '--control', '127.0.0.1:0'];
  const cases = [
    { name: 'serve without --replica', argv: base, code: 2, err: /--replica is required/ },
    { name: 'serve with a bad --size', argv: ['serve', '--volume', 'v', '--size', '1.5', '--replica', 'a:1', '--control', '127.0.0.1:0'], code: 2, err: /--size: "1.5" is not a whole number of bytes/ },
    { name: 'serve with a replica that is not HOST:PORT', argv: [...base, '--replica', 'nohost'], code: 2, err: /--replica: expected HOST:PORT, got "nohost"/ },
    { name: 'serve with an unknown frontend', argv: [...base, '--replica', 'a:1', '--frontend', 'nbd'], code: 2, err: /--frontend: only "iscsi" is known/ },
    { name: 'serve with iscsi but no --listen', argv: [...base, '--replica', 'a:1', '--frontend', 'iscsi'], code: 2, err: /--listen is required/ },
    { name: 'serve with a tiny --io-timeout', argv: [...base, '--replica', 'a:1', '--io-timeout', '5'], code: 2, err: /--io-timeout: expected milliseconds ≥ 100/ },
    { name: 'serve with a missing secret file', argv: [...base, '--replica', 'a:1'], code: 1, err: /cannot read secret file \/nonexistent/ },
    { name: 'add-replica without an address', argv: ['add-replica', '--control', '127.0.0.1:1'], code: 2, err: /exactly one replica address/ },
    { name: 'serve with a --size that is not a multiple of 512', argv: ['serve', '--volume', 'v', '--size', '1000', '--replica', 'a:1', '--control', '127.0.0.1:0'], code: 2, err: /--size: must be a multiple of 512 bytes, got 1000 bytes/ },
    { name: 'serve with a --size past 16Ti', argv: ['serve', '--volume', 'v', '--size', '17Ti', '--replica', 'a:1', '--control', '127.0.0.1:0'], code: 2, err: /--size: must be at most 16Ti/ },
    { name: 'expand without --size', argv: ['expand', '--control', '127.0.0.1:1'], code: 2, err: /--size is required/ },
    { name: 'expand with a bad --size', argv: ['expand', '--control', '127.0.0.1:1', '--size', 'ten'], code: 2, err: /--size: "ten"/ },
    { name: 'expand with the size as an argument', argv: ['expand', '--control', '127.0.0.1:1', '20Gi'], code: 2, err: /unexpected argument "20Gi" \(the size goes in --size\)/ },
    { name: 'expand of an engine that is not there', argv: ['expand', '--control', '127.0.0.1:1', '--size', '2Gi'], code: 1, err: /cannot reach the engine at http:\/\/127\.0\.0\.1:1\/v1\/expand/ },
    { name: 'status of an engine that is not there', argv: ['status', '--control', '127.0.0.1:1'], code: 1, err: /cannot reach the engine at http:\/\/127\.0\.0\.1:1\/v1\/status/ },
  ];
  for (const c of cases) {
    it(`${c.name}: exit ${c.code} with a clear message`, async () => {
      const r = await runEngine(c.argv);
      assert.equal(r.code, c.code, r.stderr);
      assert.match(r.stderr, c.err);
    });
  }
});

describe('shorthorn engine status --watch', () => {
  it('redraws the table until interrupted, then exits 0', async () => {
    const { engine } = await memoryEngine(2);
    const server = await startControlServer(engine, '127.0.0.1', 0);
    const out = new PassThrough();
    const ac = new AbortController();
    let text = '';
    out.on('data', (d: Buffer) => {
      text += d.toString();
      ac.abort();
    });
    const code = await runCommand(engineCommand, ['status', '--control', server.address, '--watch'], { stdout: out, stderr: new PassThrough(), signal: ac.signal }, 'shorthorn engine');
    assert.equal(code, 0);
    assert.match(text, /^\u001b\[H\u001b\[2Jvolume v1 {2}size 8Mi {2}2\/2 RW\nREPLICA/);
    await server.close();
    await engine.close();
  });
});
