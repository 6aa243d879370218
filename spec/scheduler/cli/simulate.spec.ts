import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCommand } from '../../../api/cli/command.ts';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { commands } from '../../../scheduler/index.ts';
import { explainVolume } from '../../../scheduler/cli/explain.ts';
import { listenApiServer } from '../../../api/store/apiserver.ts';
import { node, replica, volume } from '../builders.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'shorthorn-simulate-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += String(c)));
  stderr.on('data', (c) => (err += String(c)));
  const root = { name: 'shorthorn', summary: 'test', subcommands: commands };
  const code = await runCommand(root, argv, { stdout, stderr, signal: new AbortController().signal });
  return { code, out, err };
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const input = {
  nodes: [node('n1', { zone: 'a', disks: [{ tags: ['ssd'] }] }), node('n2', { zone: 'b' }), node('n3', { zone: 'c' })],
  replicas: [replica('v2-r1', 'v2', 'n2')],
  volumes: [volume('v1', { numberOfReplicas: 3 }), volume('v2', { numberOfReplicas: 2, diskSelector: ['ssd'] }), volume('v3', { numberOfReplicas: 1, diskSelector: ['nvme'] })],
  settings: { 'replica-zone-soft-anti-affinity': 'false' },
};

describe('shorthorn placement simulate', () => {
  it('prints the placements and the reasons as the issue specifies with -o json', async () => {
    const r = await run(['placement', 'simulate', '--input', file('in.json', JSON.stringify(input)), '-o', 'json']);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out);
    assert.deepEqual(out.placements.v1.map((p: { node: string }) => p.node).sort(), ['n1', 'n2', 'n3']);
    assert.deepEqual(out.placements.v2, [{ node: 'n1', disk: 'd1' }]);
    assert.equal(out.placements.v3, undefined);
    assert.deepEqual(out.unschedulable.v3.reasons, { DiskTagsNotFulfilled: 3 });
    assert.equal(out.unschedulable.v3.message, '0/3 disks are available: 3 tags not fulfilled (disk lacks "nvme")');
    assert.deepEqual(Object.keys(out.unschedulable), ['v3']);
  });

  it('prints one line per volume without -o', async () => {
    const r = await run(['placement', 'simulate', '--input', file('in2.json', JSON.stringify(input))]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^v3: unschedulable: 0\/3 disks are available/m);
  });

  const bad: { name: string; argv: () => string[]; code: number; err: RegExp }[] = [
    { name: 'a missing file', argv: () => ['--input', join(dir, 'absent.json')], code: 1, err: /cannot read .*absent\.json: ENOENT/ },
    { name: 'invalid JSON', argv: () => ['--input', file('bad.json', '{"nodes": [')], code: 1, err: /bad\.json: not valid JSON/ },
    { name: 'an object that fails its codec, naming the field', argv: () => ['--input', file('bad2.json', JSON.stringify({ nodes: [{ ...node('n1'), spec: { disks: { d1: { path: 1 } } } }] }))], code: 1, err: /nodes\.0\.spec\.disks\.d1\.path: expected string, got 1/ },
    { name: 'a bad setting value', argv: () => ['--input', file('bad3.json', JSON.stringify({ nodes: [], settings: { 'storage-minimal-available-percentage': '200' } }))], code: 1, err: /settings\.storage-minimal-available-percentage: expected an integer from 0 to 100, got 200/ },
    { name: 'no --input', argv: () => [], code: 2, err: /--input is required/ },
    { name: 'an unknown output format', argv: () => ['--input', file('ok.json', '{"nodes":[]}'), '-o', 'yaml'], code: 2, err: /expected text or json/ },
  ];
  for (const c of bad) {
    it(`refuses ${c.name} with one line and exit ${c.code}`, async () => {
      const r = await run(['placement', 'simulate', ...c.argv()]);
      assert.equal(r.code, c.code);
      assert.match(r.err, c.err);
      assert.equal(r.err.trim().split('\n').length, 1);
    });
  }
});

describe('shorthorn placement explain', () => {
  it('explains a volume of a running store: its replicas and why the missing one cannot be placed', async () => {
    const store = EmbeddedStore.open({});
    try {
      for (const n of [node('n1'), node('n2')]) {
        const c = await store.create('Node', n);
        await store.updateStatus('Node', { ...c, status: n.status });
      }
      await store.create('Volume', volume('v1'));
      await store.create('Replica', replica('v1-r1', 'v1', 'n1'));
      const out = await explainVolume(store, 'v1');
      assert.deepEqual(out.replicas.map((r) => r.node), ['n1']);
      assert.deepEqual(out.placements.v1, [{ node: 'n2', disk: 'd1' }]);
      assert.equal(out.unschedulable.v1?.message, 'replica 3 of 3: 0/2 disks are available: 2 node anti-affinity (node already holds a replica)');
      await assert.rejects(explainVolume(store, 'nope'), /volume "nope" not found/);
    } finally {
      store.close();
    }
  });

  it('runs as a command against a control plane URL (--server), in text and JSON', { timeout: 90_000 }, async () => {
    const store = EmbeddedStore.open({});
    const api = await listenApiServer({ store }, '127.0.0.1', 0);
    try {
      for (const n of [node('n1'), node('n2'), node('n3')]) {
        const c = await store.create('Node', n);
        await store.updateStatus('Node', { ...c, status: n.status });
      }
      await store.create('Volume', volume('v1', { numberOfReplicas: 2 }));
      const text = await run(['placement', 'explain', 'v1', '--server', api.url, '-n', store.namespace]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^v1: replicas none$/m);
      assert.match(text.out, /^missing: v1: n\d\/d1, n\d\/d1$/m);
      const json = await run(['placement', 'explain', 'v1', '--server', api.url, '-n', store.namespace, '-o', 'json']);
      assert.equal(JSON.parse(json.out).placements.v1.length, 2);
      const missing = await run(['placement', 'explain', 'nope', '--server', api.url, '-n', store.namespace]);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /volume "nope" not found/);
      const usage = await run(['placement', 'explain']);
      assert.equal(usage.code, 2);
    } finally {
      await api.close();
      store.close();
    }
  });
});
