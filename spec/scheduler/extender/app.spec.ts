import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import type { Volume } from '../../../api/codecs/volume.ts';
import { resolveSettings } from '../../../api/settings.ts';
import { buildGraph } from '../../../scheduler/graph/build.ts';
import { createApp } from '../../../scheduler/extender/app.ts';
import type { ExtenderDeps } from '../../../scheduler/extender/deps.ts';
import { CSI_DRIVER, MemoryKubeView } from '../../../scheduler/extender/resolver.ts';
import { node, replica, volume } from '../builders.ts';

/**
 * The cluster of these tests: n1, n2 (zone a, rack r1), n3 (zone a, rack r2), n4 (zone b),
 * n6 (agent not Ready), n7 (Shorthorn scheduling disabled), n8 (zone b, nearly full disk);
 * n5 has no Shorthorn agent at all. Volumes:
 *   vol-3r    three replicas on n1 (healthy), n3 (rebuilding), n4 (healthy)
 *   vol-local strict-local, its replica on n2
 *   vol-rwo   attached to n4 and in use; vol-rwx the same but rwx
 */
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'];

function setup(opts: { maxBodyBytes?: number } = {}) {
  const nodes = [
    node('n1', { zone: 'a', rack: 'r1' }),
    node('n2', { zone: 'a', rack: 'r1' }),
    node('n3', { zone: 'a', rack: 'r2' }),
    node('n4', { zone: 'b', rack: 'r3' }),
    node('n6', { zone: 'b', ready: false }),
    node('n7', { zone: 'b', allowScheduling: false }),
    node('n8', { zone: 'b', rack: 'r4', disks: [{ maxGi: 100 }] }),
    node('worker-a1', { zone: 'eu-west-1a', rack: 'r1' }),
    node('worker-a2', { zone: 'eu-west-1a', rack: 'r2' }),
    node('worker-b1', { zone: 'eu-west-1b', rack: 'r3' }),
    node('worker-c1', { zone: 'eu-west-1c', rack: 'r4' }),
  ];
  const replicas = [
    replica('vol-3r-a', 'vol-3r', 'n1', 'd1', { running: true }),
    replica('vol-3r-b', 'vol-3r', 'n3', 'd1', { running: true }),
    replica('vol-3r-c', 'vol-3r', 'n4', 'd1', { running: true }),
    replica('vol-local-a', 'vol-local', 'n2', 'd1', { running: true }),
    replica('fill', 'other', 'n8', 'd1', { sizeGi: 95 }),
    replica('data-a', 'pg-data', 'worker-a1', 'd1', { running: true }),
    replica('data-b', 'pg-data', 'worker-b1', 'd1', { running: true }),
  ];
  const graph = buildGraph(nodes, replicas);
  const vols = new Map<string, Volume>();
  const add = (v: Volume) => vols.set(v.metadata.name, v);
  add({ ...volume('vol-3r'), status: { replicaModes: { 'vol-3r-a': 'RW', 'vol-3r-b': 'WO', 'vol-3r-c': 'RW' } } });
  add({ ...volume('vol-local', { dataLocality: 'strict-local', numberOfReplicas: 1 }), status: { replicaModes: { 'vol-local-a': 'RW' } } });
  add({ ...volume('vol-rwo', { nodeID: 'n4' }), status: { state: 'attached', currentNodeID: 'n4' } });
  add({ ...volume('vol-rwx', { nodeID: 'n4', accessMode: 'rwx' }), status: { state: 'attached', currentNodeID: 'n4' } });
  add({ ...volume('pg-data', { numberOfReplicas: 2 }), status: { replicaModes: { 'data-a': 'RW', 'data-b': 'RW' } } });
  const kube = new MemoryKubeView();
  for (const name of ['vol-3r', 'vol-local', 'vol-rwo', 'vol-rwx', 'vol-gone']) {
    kube.addClaim({ namespace: 'default', name: `pvc-${name}`, volumeName: `pv-${name}` });
    kube.volumes.set(`pv-${name}`, { name: `pv-${name}`, csiDriver: CSI_DRIVER, volumeHandle: name });
  }
  kube.addClaim({ namespace: 'default', name: 'pvc-other', volumeName: 'pv-other' });
  kube.volumes.set('pv-other', { name: 'pv-other', csiDriver: 'ebs.csi.aws.com', volumeHandle: 'vol-0abc' });
  kube.classes.set('shorthorn-local', { name: 'shorthorn-local', provisioner: CSI_DRIVER, volumeBindingMode: 'WaitForFirstConsumer', parameters: { dataLocality: 'strict-local' } });
  kube.classes.set('shorthorn-nvme', { name: 'shorthorn-nvme', provisioner: CSI_DRIVER, volumeBindingMode: 'WaitForFirstConsumer', parameters: { numberOfReplicas: '3', diskSelector: 'nvme' } });
  kube.classes.set('shorthorn-best', { name: 'shorthorn-best', provisioner: CSI_DRIVER, volumeBindingMode: 'WaitForFirstConsumer', parameters: { numberOfReplicas: '2', dataLocality: 'best-effort' } });
  kube.addClaim({ namespace: 'default', name: 'pvc-wffc-local', storageClassName: 'shorthorn-local', requestStorage: '50Gi' });
  kube.addClaim({ namespace: 'default', name: 'pvc-wffc-nvme', storageClassName: 'shorthorn-nvme', requestStorage: '10Gi' });
  kube.addClaim({ namespace: 'default', name: 'pvc-wffc-best', storageClassName: 'shorthorn-best', requestStorage: '10Gi' });
  // The recorded pod's claims (namespace db).
  kube.addClaim({ namespace: 'db', name: 'data-postgres-0', volumeName: 'pv-pg-data' });
  kube.volumes.set('pv-pg-data', { name: 'pv-pg-data', csiDriver: CSI_DRIVER, volumeHandle: 'pg-data' });
  kube.addClaim({ namespace: 'db', name: 'wal-postgres-0', storageClassName: 'shorthorn-best', requestStorage: '5Gi' });
  const deps: ExtenderDeps = { graph, volume: (n) => vols.get(n), settings: () => resolveSettings({}), kube, ...opts };
  return createApp(deps);
}

const pod = (...claims: string[]) => ({ metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { volumes: [{ name: 'tmp', emptyDir: {} }, ...claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } }))] } });

interface FilterCase {
  name: string;
  claims: string[];
  passed: string[];
  failed?: Record<string, RegExp>;
  unresolvable?: Record<string, RegExp>;
}

const NOT_ATTACHABLE: Record<string, RegExp> = { n5: /no Shorthorn agent/, n6: /agent of the node is not Ready/, n7: /scheduling is disabled/ };

const filterCases: FilterCase[] = [
  { name: 'a pod without Shorthorn volumes passes every node, even without an agent', claims: [], passed: NODES },
  { name: 'a volume of another CSI driver is ignored', claims: ['pvc-other'], passed: NODES },
  { name: 'a node without an agent, not Ready, or with scheduling disabled cannot attach', claims: ['pvc-vol-3r'], passed: ['n1', 'n2', 'n3', 'n4', 'n8'], failed: NOT_ATTACHABLE },
  {
    name: 'strict-local volume already bound: only the node holding its replica; the others unresolvable',
    claims: ['pvc-vol-local'],
    passed: ['n2'],
    failed: NOT_ATTACHABLE,
    unresolvable: { n1: /strict-local: its replica is on n2/, n3: /on n2/, n4: /on n2/, n8: /on n2/ },
  },
  { name: 'an RWO volume attached to another node and in use: that node only', claims: ['pvc-vol-rwo'], passed: ['n4'], failed: { ...NOT_ATTACHABLE, n1: /attached to n4 and in use/, n8: /attached to n4/ } },
  { name: 'an RWX volume attached elsewhere does not restrict', claims: ['pvc-vol-rwx'], passed: ['n1', 'n2', 'n3', 'n4', 'n8'], failed: NOT_ATTACHABLE },
  {
    name: 'unbound WaitForFirstConsumer strict-local: nodes that cannot hold the replica are rejected with the placement explanation',
    claims: ['pvc-wffc-local'],
    passed: ['n1', 'n2', 'n3', 'n4'],
    failed: { ...NOT_ATTACHABLE, n8: /cannot be placed with n8 as its attach node: .*insufficient storage \(need 50Gi/ },
  },
  {
    name: 'unbound WaitForFirstConsumer with a disk selector nobody fulfils: every node rejected with the explanation',
    claims: ['pvc-wffc-nvme'],
    passed: [],
    failed: { ...NOT_ATTACHABLE, n1: /cannot be placed: replica 1 of 3: 0\/11 disks are available: .*tags not fulfilled \(disk lacks "nvme"\)/ },
  },
];

describe('extender POST /filter', { timeout: 60_000 }, () => {
  const app = setup();
  for (const c of filterCases) {
    it(`${c.name} (NodeNames form)`, async () => {
      const res = await request(app).post('/filter').send({ Pod: pod(...c.claims), NodeNames: NODES });
      assert.equal(res.status, 200);
      assert.equal(res.body.Error, '');
      assert.equal(res.body.Nodes, null);
      assert.deepEqual(res.body.NodeNames, c.passed);
      const failed = { ...res.body.FailedNodes, ...res.body.FailedAndUnresolvableNodes };
      assert.deepEqual(Object.keys(failed).sort(), NODES.filter((n) => !c.passed.includes(n)).sort());
      for (const [n, re] of Object.entries(c.failed ?? {})) assert.match(res.body.FailedNodes[n] ?? '', re, `FailedNodes[${n}]`);
      for (const [n, re] of Object.entries(c.unresolvable ?? {})) assert.match(res.body.FailedAndUnresolvableNodes[n] ?? '', re, `FailedAndUnresolvableNodes[${n}]`);
    });
  }

  it('writes every NodeNames answer as JSON.stringify writes it (the list sent back as it came when every node passes)', async () => {
    for (const c of filterCases) {
      const res = await request(app).post('/filter').send({ Pod: pod(...c.claims), NodeNames: NODES });
      assert.equal(res.text, JSON.stringify(res.body), c.name);
      assert.match(res.headers['content-type'] ?? '', /^application\/json; charset=utf-8$/);
    }
  });

  it('answers the Nodes form with the node objects as sent, and NodeNames null', async () => {
    const items = ['n1', 'n4'].map((name) => ({ metadata: { name, labels: { x: 'y' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] }, extra: { kept: true } }));
    const res = await request(app).post('/filter').send({ Pod: pod('pvc-vol-rwo'), Nodes: { metadata: {}, items } });
    assert.equal(res.status, 200);
    assert.equal(res.body.NodeNames, null);
    assert.deepEqual(res.body.Nodes.items, [items[1]]);
    assert.match(res.body.FailedNodes.n1, /attached to n4/);
  });

  it('rejects a node whose Kubernetes Node is not Ready (Nodes form)', async () => {
    const items = [{ metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }];
    const res = await request(app).post('/filter').send({ Pod: pod('pvc-vol-3r'), Nodes: { items } });
    assert.deepEqual(res.body.Nodes.items, []);
    assert.equal(res.body.FailedNodes.n1, 'node is not Ready');
  });

  const errors: { name: string; claims: string[]; error: RegExp }[] = [
    { name: 'a claim that does not exist', claims: ['pvc-missing'], error: /persistentvolumeclaim "default\/pvc-missing" not found/ },
    { name: 'a bound PV whose Volume does not exist', claims: ['pvc-vol-gone'], error: /volume "vol-gone" not found/ },
  ];
  for (const c of errors) {
    it(`answers 200 with Error set for ${c.name}`, async () => {
      const res = await request(app).post('/filter').send({ Pod: pod(...c.claims), NodeNames: ['n1'] });
      assert.equal(res.status, 200);
      assert.match(res.body.Error, c.error);
      assert.deepEqual(res.body.NodeNames, []);
    });
  }
});

describe('extender POST /prioritize', { timeout: 60_000 }, () => {
  const app = setup();
  const cases: { name: string; claims: string[]; scores: Record<string, number> }[] = [
    { name: 'no Shorthorn volume: every node 0 (an empty list)', claims: [], scores: { n1: 0, n2: 0, n5: 0 } },
    // vol-3r: n1 healthy (10), n3 rebuilding (10 × 0.5 = 5, more than its zone's 3), n4 healthy; n2 shares rack r1 with n1 (6); n8 shares zone b with n4 (3) but its disk is nearly full (× 0.6).
    { name: 'healthy replica node highest, then same rack, then same zone; rebuilding counts less; pressure lowers', claims: ['pvc-vol-3r'], scores: { n1: 10, n2: 6, n3: 5, n4: 10, n5: 0, n8: 2 } },
    { name: 'scores of several volumes are averaged back into 0..10', claims: ['pvc-vol-3r', 'pvc-vol-local'], scores: { n1: 8, n2: 8, n4: 5 } },
    // n1 holds 10Gi of 100Gi (90% free), n8 95Gi (5% free: 0.5 × pressure 0.6 rounds to 0).
    { name: 'an unbound best-effort volume prefers nodes with free space', claims: ['pvc-wffc-best'], scores: { n1: 9, n8: 0, n5: 0 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const res = await request(app).post('/prioritize').send({ Pod: pod(...c.claims), NodeNames: NODES });
      assert.equal(res.status, 200);
      const got = Object.fromEntries((res.body as { Host: string; Score: number }[]).map((h) => [h.Host, h.Score]));
      for (const [n, s] of Object.entries(c.scores)) assert.equal(got[n] ?? 0, s, `score of ${n}`);
      for (const s of Object.values(got)) assert.ok(s >= 1 && s <= 10, 'hosts scoring 0 are left out');
      for (const h of Object.keys(got)) assert.ok(NODES.includes(h));
    });
  }

  it('answers in the Nodes form; a score every candidate shares is taken off (ranking unchanged)', async () => {
    // Raw scores n1 10 (replica), n2 6 (same rack): kube-scheduler adds them per node, so the 6 both have changes no ranking.
    const res = await request(app).post('/prioritize').send({ Pod: pod('pvc-vol-3r'), Nodes: { items: [{ metadata: { name: 'n1' } }, { metadata: { name: 'n2' } }] } });
    assert.deepEqual(res.body, [{ Host: 'n1', Score: 4 }]);
  });

  it('keeps the order and the gaps of the raw scores when every candidate scores', async () => {
    const names = ['n1', 'n2', 'n3', 'n4'];
    const res = await request(app).post('/prioritize').send({ Pod: pod('pvc-vol-3r'), NodeNames: names });
    const got = Object.fromEntries((res.body as { Host: string; Score: number }[]).map((h) => [h.Host, h.Score]));
    // Raw: n1 10, n2 6, n3 5, n4 10 → minus 5.
    assert.deepEqual(got, { n1: 5, n2: 1, n4: 5 });
  });
});

describe('extender malformed input', { timeout: 60_000 }, () => {
  const app = setup({ maxBodyBytes: 4096 });
  const cases: { name: string; body: string; error: RegExp }[] = [
    { name: 'malformed JSON', body: '{"Pod": ', error: /malformed JSON/ },
    { name: 'no Pod', body: JSON.stringify({ NodeNames: ['n1'] }), error: /Pod: required/ },
    { name: 'neither Nodes nor NodeNames', body: JSON.stringify({ Pod: pod(), Nodes: null, NodeNames: null }), error: /one of Nodes or NodeNames is required/ },
    { name: 'NodeNames of the wrong type', body: JSON.stringify({ Pod: pod(), NodeNames: 5 }), error: /NodeNames/ },
    { name: 'a JSON array instead of an object', body: '[]', error: /invalid ExtenderArgs/ },
    { name: 'an oversized body', body: JSON.stringify({ Pod: pod(), NodeNames: Array.from({ length: 1000 }, (_, i) => `node-${i}`) }), error: /larger than 4096 bytes/ },
  ];
  for (const verb of ['filter', 'prioritize']) {
    for (const c of cases) {
      it(`/${verb}: 400 with a message for ${c.name}`, async () => {
        const res = await request(app).post(`/${verb}`).set('Content-Type', 'application/json').send(c.body);
        assert.equal(res.status, 400);
        assert.match(res.body.Error, c.error);
      });
    }
  }

  it('serves /healthz and Prometheus /metrics', async () => {
    assert.equal((await request(app).get('/healthz')).text, 'ok');
    await request(app).post('/filter').send({ Pod: pod(), NodeNames: ['n1'] });
    const m = await request(app).get('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.text, /shorthorn_extender_requests_total\{verb="filter",outcome="ok"\} 1/);
    assert.match(m.text, /shorthorn_extender_request_duration_seconds_bucket/);
  });

  // The body reader: UTF-8 JSON through the NodeNames shortcut (json-body.ts), anything else through body-parser's json().
  const readers: { name: string; type: string; encode?: 'gzip'; body: string; status: number; check: (b: { NodeNames?: string[]; Error?: string }) => void }[] = [
    { name: 'a compact body with charset=utf-8', type: 'application/json; charset=utf-8', body: JSON.stringify({ Pod: pod(), NodeNames: ['n1', 'n5'] }), status: 200, check: (b) => assert.deepEqual(b.NodeNames, ['n1', 'n5']) },
    { name: 'a body starting with a byte order mark', type: 'application/json', body: `\ufeff${JSON.stringify({ Pod: pod(), NodeNames: ['n2'] })}`, status: 200, check: (b) => assert.deepEqual(b.NodeNames, ['n2']) },
    { name: 'a gzip-compressed body', type: 'application/json', encode: 'gzip', body: JSON.stringify({ Pod: pod(), NodeNames: ['n3'] }), status: 200, check: (b) => assert.deepEqual(b.NodeNames, ['n3']) },
    { name: 'a body in a charset other than UTF-8', type: 'application/json; charset=latin1', body: JSON.stringify({ Pod: pod(), NodeNames: ['n1'] }), status: 400, check: (b) => assert.match(b.Error ?? '', /unsupported charset "LATIN1"/) },
    { name: 'a text/plain body', type: 'text/plain', body: JSON.stringify({ Pod: pod(), NodeNames: ['n4'] }), status: 200, check: (b) => assert.deepEqual(b.NodeNames, ['n4']) },
    { name: 'an empty body', type: 'application/json', body: '', status: 400, check: (b) => assert.match(b.Error ?? '', /Pod: required/) },
    { name: 'a scalar instead of an object', type: 'application/json', body: ' 5', status: 400, check: (b) => assert.match(b.Error ?? '', /malformed JSON: Unexpected token/) },
  ];
  for (const c of readers) {
    it(`/filter reads ${c.name} as before`, async () => {
      const raw = c.encode === 'gzip' ? gzipSync(c.body) : Buffer.from(c.body);
      // The bytes as they are: superagent would serialise a Buffer as JSON.
      const req = request(app).post('/filter').set('Content-Type', c.type).serialize((b: unknown) => b as string);
      if (c.encode !== undefined) req.set('Content-Encoding', c.encode);
      const res = await req.send(raw);
      assert.equal(res.status, c.status, res.text);
      c.check(JSON.parse(res.text));
    });
  }

  it('answers 404 with a message for unknown paths', async () => {
    const res = await request(app).post('/bind').send({});
    assert.equal(res.status, 404);
    assert.match(res.body.Error, /serves POST \/filter/);
  });
});

describe('extender with a recorded kube-scheduler request', { timeout: 60_000 }, () => {
  const app = setup();
  const recorded = JSON.parse(readFileSync(new URL('../../fixtures/extender/extender-args-nodes.json', import.meta.url), 'utf8'));

  it('filters the full NodeList form: the NotReady node out, the others back as sent', async () => {
    const res = await request(app).post('/filter').send(recorded);
    assert.equal(res.status, 200);
    assert.equal(res.body.Error, '');
    assert.equal(res.body.NodeNames, null);
    assert.deepEqual(res.body.Nodes.items.map((n: { metadata: { name: string } }) => n.metadata.name), ['worker-a1', 'worker-a2', 'worker-b1']);
    assert.deepEqual(res.body.Nodes.items[0], recorded.Nodes.items[0], 'node objects come back untouched');
    assert.deepEqual(res.body.FailedNodes, { 'worker-c1': 'node is not Ready' });
  });

  it('prioritizes the same request: replica nodes first, then same rack and zone', async () => {
    const res = await request(app).post('/prioritize').send(recorded);
    assert.equal(res.status, 200);
    const got = Object.fromEntries((res.body as { Host: string; Score: number }[]).map((h) => [h.Host, h.Score]));
    assert.ok((got['worker-a1'] ?? 0) > (got['worker-a2'] ?? 0), JSON.stringify(got));
    assert.ok((got['worker-a2'] ?? 0) > 0, 'same zone as a replica scores');
    assert.ok((got['worker-b1'] ?? 0) > (got['worker-c1'] ?? 0), JSON.stringify(got));
  });

  it('filters the same pod in the NodeNames form', async () => {
    const names = recorded.Nodes.items.map((n: { metadata: { name: string } }) => n.metadata.name);
    const res = await request(app).post('/filter').send({ Pod: recorded.Pod, NodeNames: names, Nodes: null });
    assert.equal(res.body.Nodes, null);
    assert.deepEqual(res.body.NodeNames, names, 'worker-c1 passes: without the Node object only Shorthorn\'s own view counts');
  });
});
