import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { kill9, shorthorn, startShorthorn } from '../helpers/cli.ts';

const API_LINE = /API:\s+(http:\/\/\S+)/;

describe('shorthorn dev up and the object CLI (real processes)', { timeout: 120_000 }, () => {
  const data = mkdtempSync(join(tmpdir(), 'sh-dev-'));
  const env = { SHORTHORN_KUBECONFIG: join(data, 'kubeconfig') };
  after(() => rmSync(data, { recursive: true, force: true }));

  it('lists the subcommands in --help', async () => {
    const r = await shorthorn(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['dev', 'volume', 'node', 'setting']) assert.match(r.stdout, new RegExp(`^  ${c}\\s`, 'm'));
  });

  it('creates a volume with defaults, keeps it across SIGKILL, and refuses bad input naming the field', async () => {
    let dev = await startShorthorn(['dev', 'up', '--data', data, '--listen', '127.0.0.1:0', '--nodes', '0'], API_LINE);
    try {
      const created = await shorthorn(['volume', 'create', 'v1', '--size', '1Gi'], env);
      assert.equal(created.code, 0, created.stderr);
      const got = await shorthorn(['volume', 'get', 'v1', '-o', 'json'], env);
      assert.equal(got.code, 0, got.stderr);
      const v = JSON.parse(got.stdout);
      assert.equal(v.spec.numberOfReplicas, 3, 'defaulted from default-replica-count');
      assert.equal(v.spec.accessMode, 'rwo');
      assert.deepEqual(v.metadata.finalizers, ['shorthorn.io']);

      const cases: Array<[string[], number, RegExp]> = [
        [['volume', 'create', 'bad', '--size', '-1'], 2, /--size: "-1" is negative/],
        [['volume', 'create', 'bad', '--size', '1Gi', '--replicas', '0'], 1, /spec\.numberOfReplicas: expected an integer from 1 to 20, got 0/],
        [['volume', 'create', 'v1', '--size', '1Gi'], 1, /"v1" already exists/],
        [['volume', 'get', 'missing'], 1, /"missing" not found/],
        [['volume', 'create', 'bad', '--size', '1Gi', '-o', 'xml'], 2, /-o\/--output: expected table, json or yaml/],
        [['setting', 'set', 'default-replica-count', '30'], 2, /expected an integer from 1 to 20, got 30/],
        [['volume', 'expand', 'v1'], 2, /--size is required/],
        [['volume', 'expand', 'v1', '--size', 'big'], 2, /--size: "big"/],
        [['volume', 'expand', 'v1', '--size', '512Mi'], 1, /spec\.size: cannot shrink from 1Gi to 512Mi/],
        [['volume', 'expand', 'v1', '--size', '1025Mi'], 1, /spec\.size: can grow only in steps of 2Mi/],
        [['volume', 'expand', 'missing', '--size', '2Gi'], 1, /"missing" not found/],
      ];
      for (const [args, code, msg] of cases) {
        const r = await shorthorn(args, env);
        assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, msg);
        assert.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr');
      }
      const grown = await shorthorn(['volume', 'expand', 'v1', '--size', '2Gi'], env);
      assert.equal(grown.code, 0, grown.stderr);
      assert.match(grown.stdout, /volume\.shorthorn\.io\/v1 expanded to 2Gi; its replicas grow when it is next attached/);
      const set = await shorthorn(['setting', 'set', 'default-replica-count', '2'], env);
      assert.equal(set.code, 0, set.stderr);
      await shorthorn(['volume', 'create', 'v2', '--size', '512Mi'], env);

      await kill9(dev.child);
      dev = await startShorthorn(['dev', 'up', '--data', data, '--listen', '127.0.0.1:0', '--nodes', '0'], API_LINE);
      const after = await shorthorn(['volume', 'list', '-o', 'json'], env);
      assert.equal(after.code, 0, after.stderr);
      const items = JSON.parse(after.stdout).items as Array<{ metadata: { name: string }; spec: { numberOfReplicas: number } }>;
      assert.deepEqual(items.map((i) => [i.metadata.name, i.spec.numberOfReplicas]), [['v1', 3], ['v2', 2]]);
      assert.equal((items[0] as unknown as { spec: { size: string } }).spec.size, '2Gi', 'the growth was kept');
    } finally {
      await kill9(dev.child);
    }
  });

  it('refuses to start on a hand-corrupted store file and leaves it as it was', async () => {
    const wal = join(data, 'store', 'wal.log');
    const text = readFileSync(wal, 'utf8');
    const broken = text.replace('"size":"1Gi"', '"size":"9Gi"');
    assert.notEqual(broken, text);
    writeFileSync(wal, broken);
    const r = await shorthorn(['dev', 'up', '--data', data, '--listen', '127.0.0.1:0', '--nodes', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wal\.log: line \d+ is corrupt \(checksum mismatch\)/);
    assert.equal(readFileSync(wal, 'utf8'), broken);
  });
});
