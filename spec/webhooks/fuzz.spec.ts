import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import { createApp } from '../../webhooks/app.ts';
import { runChain } from '../../webhooks/chain.ts';
import { fixture, obj, review } from './harness.ts';

/** Every fixture, plus one review per kind the fixtures lack (CREATE of a Node, Replica, Engine). */
const BASES: Record<string, any>[] = [
  ...['volume-create', 'volume-update-shrink', 'volume-status-update', 'node-delete', 'setting-update-invalid', 'pod-create'].map(fixture),
  review('Node', 'CREATE', obj('Node', 'n1', { spec: { disks: { '/mnt/a': {}, d2: { path: '/mnt/b', storageReserved: '1Gi' } } } }), undefined),
  review('Node', 'UPDATE', obj('Node', 'n1', { spec: { disks: {} } }), obj('Node', 'n1', { spec: { disks: { d1: { path: '/mnt/a' } } } })),
  review('Replica', 'UPDATE', obj('Replica', 'r1', { spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID: 'n2', diskID: 'd', diskPath: '/p', dataDirectoryName: 'x', desireState: 'running' } }), obj('Replica', 'r1', { spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID: 'n1', diskID: 'd', diskPath: '/p', dataDirectoryName: 'x', desireState: 'running' } })),
  review('Engine', 'CREATE', obj('Engine', 'e1', { spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID: 'n1', desireState: 'running', frontend: 'iscsi', replicaAddressMap: {} } }), undefined),
];

/** Every path (list of keys) inside a JSON value. */
function pathsOf(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix);
  if (typeof v === 'object' && v !== null && prefix.length < 12) for (const [k, c] of Object.entries(v)) pathsOf(c, [...prefix, k], out);
  return out;
}

/** A copy with one place replaced or removed (copied along the path only: values may nest deeply). */
function setAt(doc: any, path: string[], value: unknown, remove: boolean): any {
  if (path.length === 0) return value;
  const [k, ...rest] = path as [string, ...string[]];
  const copy = Array.isArray(doc) ? [...doc] : { ...doc };
  if (rest.length === 0) {
    if (remove) delete (copy as any)[k];
    else (copy as any)[k] = value;
  } else (copy as any)[k] = setAt(doc[k], rest, value, remove);
  return copy;
}

function deep(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

/** A value to put somewhere: wrong types, huge strings, deep nesting, anything. */
const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, 0, -1, 1e308, '', 'x', true, [], {}, '10Gi', '-1Gi', 'strict-local', '/mnt/a', 'CREATE', 'shorthorn.io'),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 10, max: 3000 }).map((d) => deep(d, 'x')),
);

/** A fixture with one or a few places deleted or replaced. */
const mutatedReview = fc
  .tuple(fc.constantFrom(...BASES), fc.array(fc.tuple(fc.nat(), hostile, fc.boolean()), { minLength: 1, maxLength: 4 }))
  .map(([base, edits]) => {
    let doc: any = base;
    for (const [pick, value, remove] of edits) {
      const paths = pathsOf(doc).filter((p) => p.length > 0);
      if (paths.length === 0) break;
      doc = setAt(doc, paths[pick % paths.length] as string[], value, remove);
    }
    return doc;
  });

interface Body {
  readonly type: string;
  readonly text: string;
}

const bodies: fc.Arbitrary<Body> = fc.oneof(
  { weight: 6, arbitrary: mutatedReview.map((d) => ({ type: 'application/json', text: JSON.stringify(d) ?? 'null' })) },
  { weight: 2, arbitrary: fc.jsonValue().map((d) => ({ type: 'application/json', text: JSON.stringify(d) ?? 'null' })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...BASES), fc.nat(), fc.string()).map(([b, at, junk]) => { const t = JSON.stringify(b); const i = at % t.length; return { type: 'application/json', text: t.slice(0, i) + junk + (junk === '' ? '}' : '') }; }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/yaml', 'multipart/form-data; boundary=x'), fc.constantFrom(...BASES)).map(([type, b]) => ({ type, text: JSON.stringify(b) })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ type: 'application/json; charset=utf-8', text })) },
);

let server: Server;
let base: string;
let store: EmbeddedStore;

async function send(path: string, body: Body): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': body.type }, body: body.text });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

function uidOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { request?: { uid?: unknown } })?.request?.uid;
  } catch {
    return undefined;
  }
}

describe('webhooks fuzz: random and mutated bodies', { timeout: 180_000 }, () => {
  before(async () => {
    store = EmbeddedStore.open();
    server = createServer(createApp({ store }));
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    store.close();
  });

  it('answers every body with a 400 and a message, or a well-formed AdmissionReview; never a 500', async () => {
    // Bounded time: the suite's timeout fails the test if 3,000 bodies take too long.
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom('/mutate', '/validate'), async (body, path) => {
        runs++;
        const { status, json } = await send(path, body);
        if (status === 400) {
          assert.equal(json.code, 400);
          assert.equal(typeof json.message, 'string');
          assert.notEqual(json.message, '');
          return;
        }
        assert.equal(status, 200, `status ${status} for ${body.text.slice(0, 200)}`);
        assert.equal(json.apiVersion, 'admission.k8s.io/v1');
        assert.equal(json.kind, 'AdmissionReview');
        assert.equal(json.response.uid, uidOf(body.text));
        assert.equal(typeof json.response.allowed, 'boolean');
        if (!json.response.allowed) {
          assert.equal(typeof json.response.status.message, 'string');
          assert.notEqual(json.response.status.message, '');
          assert.notEqual(json.response.status.code, 500, `the chain threw: ${json.response.status.message}`);
        }
        if (json.response.patch !== undefined) assert.ok(Array.isArray(JSON.parse(Buffer.from(json.response.patch, 'base64').toString())));
      }),
      { numRuns: 3000 },
    );
    assert.equal(runs, 3000);
    // Still alive and well after all that.
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  it('the in-process chain never throws and never refuses with 500, whatever the object', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedReview, async (doc) => {
        const q = doc?.request;
        if (typeof q !== 'object' || q === null) return;
        for (const kind of ['Volume', 'Node', 'Replica', 'Engine', 'Setting']) {
          for (const operation of ['CREATE', 'UPDATE', 'DELETE']) {
            const r = await runChain({ store }, { operation, kind, name: 'x', namespace: 'ns', object: q.object, oldObject: q.oldObject, dryRun: false }, 'both');
            if (!r.outcome.allowed) assert.notEqual(r.outcome.code, 500, r.outcome.message);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
