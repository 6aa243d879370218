import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCommand } from '../../api/cli/command.ts';
import { commands } from '../../webhooks/index.ts';

const root = { name: 'shorthorn', summary: 'test', subcommands: commands };

function collect(): { stream: PassThrough; text: () => string; line: (re: RegExp) => Promise<string> } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (c: Buffer) => (buf += c.toString()));
  return {
    stream,
    text: () => buf,
    line: (re) =>
      new Promise((resolve) => {
        const check = () => {
          const m = re.exec(buf);
          if (m) {
            stream.off('data', check);
            resolve(m[0]);
          }
        };
        stream.on('data', check);
        check();
      }),
  };
}

describe('shorthorn webhooks', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'shorthorn-webhooks-cmd-'));
  const saved = process.env.KUBERNETES_SERVICE_HOST;
  before(() => {
    delete process.env.KUBERNETES_SERVICE_HOST;
  });
  after(() => {
    if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs --tls-cert and --tls-key, or --self-signed (usage error, exit 2)', async () => {
    const out = collect();
    const err = collect();
    const code = await runCommand(root, ['webhooks', '--listen', '127.0.0.1:0', '--tls-cert', '/x.crt'], { stdout: out.stream, stderr: err.stream, signal: new AbortController().signal });
    assert.equal(code, 2);
    assert.match(err.text(), /give --tls-cert and --tls-key, or --self-signed DIR/);
  });

  it('serves HTTPS with --self-signed (ca.crt written) and stops cleanly when aborted', async () => {
    const out = collect();
    const err = collect();
    const ac = new AbortController();
    const running = runCommand(root, ['webhooks', '--listen', '127.0.0.1:0', '--self-signed', dir], { stdout: out.stream, stderr: err.stream, signal: ac.signal });
    const url = (await out.line(/https:\/\/127\.0\.0\.1:\d+/)) + '/healthz';
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const status = await new Promise<number>((resolve, reject) => get(url, { ca, agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject));
    assert.equal(status, 200);
    ac.abort();
    assert.equal(await running, 0);
  });
});
