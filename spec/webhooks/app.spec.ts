import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import { createApp, MAX_BODY_BYTES } from '../../webhooks/app.ts';
import { createMetrics } from '../../webhooks/metrics.ts';
import { fixture, post, review } from './harness.ts';

const emptyStore = () => EmbeddedStore.open();

function patchOf(response: Record<string, any>): unknown {
  return JSON.parse(Buffer.from(response.patch as string, 'base64').toString('utf8'));
}

describe('webhooks app: real AdmissionReview fixtures', { timeout: 60_000 }, () => {
  it('answers a Volume CREATE on /mutate with the defaults as a base64 JSONPatch', async () => {
    const store = emptyStore();
    const r = await post(createApp({ store }), '/mutate', fixture('volume-create'));
    assert.equal(r.allowed, true);
    assert.equal(r.patchType, 'JSONPatch');
    assert.deepEqual(patchOf(r), [
      { op: 'add', path: '/metadata/finalizers', value: ['shorthorn.io'] },
      { op: 'replace', path: '/spec/size', value: '9538Mi' },
      { op: 'replace', path: '/spec/nodeSelector', value: [] },
      { op: 'add', path: '/spec/numberOfReplicas', value: 3 },
      { op: 'add', path: '/spec/dataLocality', value: 'disabled' },
      { op: 'add', path: '/spec/accessMode', value: 'rwo' },
      { op: 'add', path: '/spec/frontend', value: 'iscsi' },
      { op: 'add', path: '/spec/staleReplicaTimeout', value: 30 },
      { op: 'add', path: '/spec/diskSelector', value: [] },
      { op: 'add', path: '/spec/replicaSoftAntiAffinity', value: 'ignored' },
      { op: 'add', path: '/spec/replicaZoneSoftAntiAffinity', value: 'ignored' },
      { op: 'add', path: '/spec/replicaDiskSoftAntiAffinity', value: 'ignored' },
      { op: 'add', path: '/spec/replicaAutoBalance', value: 'ignored' },
    ]);
    store.close();
  });

  it('refuses the unmutated Volume on /validate (no defaults yet) and names every field', async () => {
    const store = emptyStore();
    const r = await post(createApp({ store }), '/validate', fixture('volume-create'));
    assert.equal(r.allowed, false);
    assert.deepEqual(r.status, { code: 422, reason: 'Invalid', message: 'spec.numberOfReplicas: required (an integer from 1 to 20); spec.dataLocality: required (one of disabled, best-effort, strict-local); spec.accessMode: required (one of rwo, rwop, rwx); spec.frontend: required (one of blockdev, iscsi); spec.nodeSelector: expected a list of strings, got null' });
    store.close();
  });

  it('refuses a Volume shrink on /validate: spec.size: cannot shrink from 10Gi to 5Gi', async () => {
    const store = emptyStore();
    const r = await post(createApp({ store }), '/validate', fixture('volume-update-shrink'));
    assert.deepEqual(r, { uid: '7a1e3c55-2b1d-4d8e-9f60-3c2b1a0f9e8d', allowed: false, status: { code: 422, reason: 'Invalid', message: 'spec.size: cannot shrink from 10Gi to 5Gi' } });
    store.close();
  });

  it('passes a status update of a Volume being deleted, with no patch', async () => {
    const store = emptyStore();
    const app = createApp({ store });
    for (const path of ['/mutate', '/validate'] as const) assert.deepEqual(await post(app, path, fixture('volume-status-update')), { uid: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed', allowed: true });
    store.close();
  });

  it('refuses deleting a Node whose status still lists a replica', async () => {
    const store = emptyStore();
    const r = await post(createApp({ store }), '/validate', fixture('node-delete'));
    assert.deepEqual(r.status, { code: 403, reason: 'Forbidden', message: 'metadata.name: node "worker-1" cannot be deleted: it holds 1 replica(s) (vol-a-r-0a1b2c3d); evict them first' });
    store.close();
  });

  it('refuses a Setting out of range (dry run too)', async () => {
    const store = emptyStore();
    const r = await post(createApp({ store }), '/validate', fixture('setting-update-invalid'));
    assert.equal(r.status.message, 'value: expected an integer from 0 to 100, got 120 (setting storage-minimal-available-percentage)');
    store.close();
  });

  for (const path of ['/mutate', '/validate'] as const) {
    it(`refuses a kind it does not know on ${path}, with a message`, async () => {
      const store = emptyStore();
      const r = await post(createApp({ store }), path, fixture('pod-create'));
      assert.deepEqual(r.status, { code: 400, reason: 'BadRequest', message: 'kind: expected one of Volume, Replica, Engine, Node, Setting, got "core/Pod"' });
      const r2 = await post(createApp({ store }), path, review('Snapshot', 'CREATE', { metadata: { name: 's' } }, undefined));
      assert.equal(r2.status.message, 'kind: expected one of Volume, Replica, Engine, Node, Setting, got "Snapshot"');
      store.close();
    });
  }

  it('leaves a stored size off the 2 MiB step alone when an update does not change it', async () => {
    const store = emptyStore();
    const r = fixture('volume-update-shrink');
    r.request.oldObject.spec.size = '10737418241';
    r.request.object.spec.size = '10737418241';
    r.request.object.spec.numberOfReplicas = 2;
    assert.equal((await post(createApp({ store }), '/validate', r)).allowed, true);
    store.close();
  });

  it('adds no defaults to a volume being deleted, so the finalizer can go even from an older spec', async () => {
    const store = emptyStore();
    const r = fixture('volume-update-shrink');
    r.request.oldObject.metadata.deletionTimestamp = '2026-11-24T21:00:00Z';
    delete r.request.oldObject.spec.staleReplicaTimeout;
    r.request.object = structuredClone(r.request.oldObject);
    r.request.object.metadata.finalizers = [];
    const app = createApp({ store });
    assert.deepEqual(await post(app, '/mutate', r), { uid: r.request.uid, allowed: true });
    assert.deepEqual(await post(app, '/validate', r), { uid: r.request.uid, allowed: true });
    store.close();
  });

  it('refuses a complete Volume whose size is off the 2 MiB step on /validate (the mutator rounds it first)', async () => {
    const store = emptyStore();
    const r = fixture('volume-update-shrink');
    const v = { ...r.request.object, metadata: { name: 'v9' } };
    v.spec.size = '10G';
    const res = await post(createApp({ store }), '/validate', review('Volume', 'CREATE', v, undefined));
    assert.equal(res.status.message, 'spec.size: expected a multiple of 2Mi, got "10G"');
    store.close();
  });

  it('allows CONNECT (nothing to judge)', async () => {
    const store = emptyStore();
    assert.equal((await post(createApp({ store }), '/validate', review('Volume', 'CONNECT', undefined, undefined))).allowed, true);
    store.close();
  });
});

describe('webhooks app: bodies that are not AdmissionReviews get 400 with a message', { timeout: 60_000 }, () => {
  const valid = JSON.stringify(fixture('volume-update-shrink'));
  const edited = (f: (r: Record<string, any>) => void) => {
    const r = fixture('volume-update-shrink');
    f(r);
    return JSON.stringify(r);
  };
  const cases: Array<{ name: string; type?: string; body: string | Buffer; message: RegExp }> = [
    { name: 'wrong content type', type: 'text/plain', body: valid, message: /^content-type: expected application\/json, got "text\/plain"$/ },
    { name: 'no content type', body: Buffer.from(valid), message: /^content-type: expected application\/json/ },
    { name: 'empty body', type: 'application/json', body: '', message: /no body/ },
    { name: 'invalid JSON', type: 'application/json', body: '{"apiVersion": ', message: /^the body is not valid JSON: / },
    { name: 'JSON that is not an object', type: 'application/json', body: '[1,2]', message: /^not an AdmissionReview admission\.k8s\.io\/v1: / },
    { name: 'wrong apiVersion', type: 'application/json', body: edited((r) => (r.apiVersion = 'admission.k8s.io/v1beta1')), message: /^not an AdmissionReview admission\.k8s\.io\/v1: apiVersion: expected "admission\.k8s\.io\/v1", got "admission\.k8s\.io\/v1beta1"$/ },
    { name: 'wrong kind', type: 'application/json', body: edited((r) => (r.kind = 'Review')), message: /kind: expected "AdmissionReview", got "Review"/ },
    { name: 'missing uid', type: 'application/json', body: edited((r) => delete r.request.uid), message: /request\.uid: required/ },
    { name: 'empty uid', type: 'application/json', body: edited((r) => (r.request.uid = '')), message: /request\.uid: expected a non-empty string, got ""/ },
    { name: 'unknown operation', type: 'application/json', body: edited((r) => (r.request.operation = 'PATCH')), message: /request\.operation: expected one of CREATE, UPDATE, DELETE, CONNECT, got "PATCH"/ },
    { name: 'nesting deeper than 100 levels', type: 'application/json', body: `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`, message: /nests deeper than 100 levels/ },
    { name: 'a body over 3 MiB', type: 'application/json', body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20), message: /larger than 3145728 bytes/ },
  ];
  for (const c of cases) {
    for (const path of ['/mutate', '/validate']) {
      it(`${c.name} on ${path}`, async () => {
        const store = emptyStore();
        let req = request(createApp({ store })).post(path);
        if (c.type !== undefined) req = req.set('content-type', c.type);
        else req = req.set('content-type', '');
        const res = await req.send(c.body);
        assert.equal(res.status, 400);
        assert.equal(res.body.code, 400);
        assert.match(res.body.message, c.message);
        store.close();
      });
    }
  }
});

describe('webhooks app: probes and metrics', { timeout: 60_000 }, () => {
  it('answers /healthz, and /readyz as the readiness probe says', async () => {
    const store = emptyStore();
    let ready = false;
    const app = createApp({ store, ready: () => ready });
    assert.equal((await request(app).get('/healthz')).status, 200);
    assert.equal((await request(app).get('/readyz')).status, 503);
    ready = true;
    assert.equal((await request(app).get('/readyz')).status, 200);
    store.close();
  });

  it('counts requests, refusals by reason and latency', async () => {
    const store = emptyStore();
    const app = createApp({ store, metrics: createMetrics() });
    await post(app, '/validate', fixture('volume-update-shrink'));
    await post(app, '/mutate', fixture('volume-create'));
    await request(app).post('/validate').set('content-type', 'application/json').send('nope');
    const text = (await request(app).get('/metrics')).text;
    assert.match(text, /shorthorn_webhook_requests_total\{path="\/validate",kind="Volume",operation="UPDATE",result="refused"\} 1/);
    assert.match(text, /shorthorn_webhook_requests_total\{path="\/mutate",kind="Volume",operation="CREATE",result="allowed"\} 1/);
    assert.match(text, /shorthorn_webhook_requests_total\{path="\/validate",kind="",operation="",result="bad-request"\} 1/);
    assert.match(text, /shorthorn_webhook_refusals_total\{path="\/validate",kind="Volume",reason="volume-size-shrink"\} 1/);
    assert.match(text, /shorthorn_webhook_request_duration_seconds_count\{path="\/validate"\} 1/);
    store.close();
  });
});
