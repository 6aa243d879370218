/**
 * Test harness for the admission rules: every case runs twice, through the HTTP app as Kubernetes
 * calls it (POST /mutate, apply the JSONPatch, POST /validate with the mutated object) and through
 * the embedded store with the chain in-process (dryRun writes), against the same store contents.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import request from 'supertest';
import type { Express } from 'express';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import { applyPatch } from '../../api/store/patch.ts';
import type { JsonPatchOp, ObjectStore } from '../../api/store/port.ts';
import { KINDS, type Kind } from '../../api/kinds.ts';
import { createAdmission } from '../../webhooks/index.ts';
import { createApp } from '../../webhooks/app.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'admission');

/** A fixture AdmissionReview (spec/fixtures/admission/NAME.json), parsed. */
export function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, any>;
}

/** An embedded store whose admission chain reads the store itself, through a late-bound reference. */
export function openStore(): EmbeddedStore {
  let self: ObjectStore | undefined;
  const reader: Pick<ObjectStore, 'get' | 'list'> = {
    get: (kind, name) => (self as ObjectStore).get(kind, name),
    list: (kind, opts) => (self as ObjectStore).list(kind, opts),
  };
  const store = EmbeddedStore.open({ admission: createAdmission({ store: reader }) });
  self = store;
  return store;
}

/** An object of a kind with a name and a body. */
export function obj(kind: Kind, name: string, body: Record<string, unknown>, meta: Record<string, unknown> = {}): any {
  return { apiVersion: 'shorthorn.io/v1beta1', kind, metadata: { name, ...meta }, ...body };
}

/** What one path answered. */
export type Answer = { allowed: true; object: any; warnings: string[] } | { allowed: false; code: number; message: string };

let uidCounter = 0;

/** An AdmissionReview for a request, built on the volume-create fixture (the shape the API server sends). */
export function review(kind: string, operation: string, object: unknown, oldObject: unknown, subResource?: string, group = 'shorthorn.io'): Record<string, any> {
  const base = fixture('volume-create');
  const plural = (KINDS as Record<string, { plural: string }>)[kind]?.plural ?? `${kind.toLowerCase()}s`;
  const name = ((object ?? oldObject) as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? '';
  base.request = {
    ...base.request,
    uid: `uid-${++uidCounter}`,
    kind: { group, version: 'v1beta1', kind },
    resource: { group, version: 'v1beta1', resource: plural },
    requestKind: { group, version: 'v1beta1', kind },
    requestResource: { group, version: 'v1beta1', resource: plural },
    name,
    operation,
    object: object ?? null,
    oldObject: oldObject ?? null,
    ...(subResource ? { subResource } : {}),
  };
  return base;
}

function decodePatch(b64: string): JsonPatchOp[] {
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as JsonPatchOp[];
}

/** Posts one review and checks the envelope: 200, AdmissionReview v1, the uid echoed. */
export async function post(app: Express, path: '/mutate' | '/validate', body: Record<string, any>): Promise<Record<string, any>> {
  const res = await request(app).post(path).set('content-type', 'application/json').send(JSON.stringify(body));
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  assert.equal(res.body.apiVersion, 'admission.k8s.io/v1');
  assert.equal(res.body.kind, 'AdmissionReview');
  assert.equal(res.body.response.uid, body.request.uid);
  return res.body.response as Record<string, any>;
}

/** As the API server runs the webhooks: /mutate, apply its JSONPatch, then /validate on the result. */
export async function viaHttp(app: Express, kind: string, operation: string, object: unknown, oldObject: unknown, subResource?: string): Promise<Answer> {
  const m = await post(app, '/mutate', review(kind, operation, object, oldObject, subResource));
  if (!m.allowed) return { allowed: false, code: m.status.code, message: m.status.message };
  let mutated = object;
  if (m.patch !== undefined) {
    assert.equal(m.patchType, 'JSONPatch');
    const r = applyPatch(object, { type: 'json', ops: decodePatch(m.patch) });
    assert.ok(E.isRight(r), 'the patch applies');
    mutated = r.right;
  }
  const v = await post(app, '/validate', review(kind, operation, mutated, oldObject, subResource));
  assert.equal(v.patch, undefined, '/validate never patches');
  if (!v.allowed) return { allowed: false, code: v.status.code, message: v.status.message };
  return { allowed: true, object: mutated, warnings: [...(m.warnings ?? []), ...(v.warnings ?? [])] };
}

/** A case of the rules table. */
export interface Case {
  readonly name: string;
  readonly kind: Kind;
  /** Creates what the rule reads (Settings, Nodes, the object to update or delete). */
  readonly seed?: (s: EmbeddedStore) => Promise<void>;
  readonly op: 'CREATE' | 'UPDATE' | 'DELETE' | 'STATUS';
  /** The object to write; for UPDATE and STATUS, built from the stored one. */
  readonly object?: (stored: any) => any;
  /** For UPDATE, DELETE and STATUS: which stored object. */
  readonly target?: string;
  readonly expect: { readonly allowed: true; readonly check?: (o: any, warnings: string[]) => void } | { readonly message: string | RegExp; readonly code?: number };
}

/** Runs a case both ways and checks that both paths agree with the expectation (and each other). */
export async function runCase(c: Case): Promise<void> {
  const store = openStore();
  try {
    await c.seed?.(store);
    const app = createApp({ store });
    const stored = c.target !== undefined ? await store.get(c.kind, c.target) : undefined;
    const next = c.object?.(structuredClone(stored));
    // What the API server hands the webhooks on UPDATE: status is the stored one (status subresource).
    const forHttp = c.op === 'UPDATE' && next !== undefined ? { ...next, status: (stored as any)?.status } : next;
    if (c.op === 'UPDATE' && forHttp.status === undefined) delete forHttp.status;
    const http = await viaHttp(app, c.kind, c.op === 'STATUS' ? 'UPDATE' : c.op, c.op === 'DELETE' ? undefined : forHttp, stored, c.op === 'STATUS' ? 'status' : undefined);
    let inProcess: Answer;
    try {
      const out =
        c.op === 'CREATE' ? await store.create(c.kind, next, { dryRun: true })
        : c.op === 'UPDATE' ? await store.update(c.kind, next, { dryRun: true })
        : c.op === 'STATUS' ? await store.updateStatus(c.kind, next, { dryRun: true })
        : await store.delete(c.kind, c.target as string, { dryRun: true });
      inProcess = { allowed: true, object: out, warnings: [] };
    } catch (e) {
      inProcess = { allowed: false, code: 0, message: (e as Error).message };
    }
    if ('message' in c.expect) {
      assert.equal(http.allowed, false, `HTTP allowed it: ${JSON.stringify(http)}`);
      assert.equal(inProcess.allowed, false, 'the embedded store allowed it');
      const [h, p] = [(http as { message: string }).message, (inProcess as { message: string }).message];
      if (typeof c.expect.message === 'string') assert.equal(h, c.expect.message);
      else assert.match(h, c.expect.message);
      assert.equal(p, h, 'the embedded store refuses with the same message');
      if (c.expect.code !== undefined) assert.equal((http as { code: number }).code, c.expect.code);
    } else {
      assert.equal(http.allowed, true, `HTTP refused it: ${JSON.stringify(http)}`);
      assert.equal(inProcess.allowed, true, `the embedded store refused it: ${JSON.stringify(inProcess)}`);
      if (c.op !== 'DELETE') assert.deepEqual((inProcess as { object: any }).object.spec, (http as { object: any }).object.spec, 'both paths store the same spec');
      c.expect.check?.((http as { object: any }).object, (http as { warnings: string[] }).warnings);
    }
  } finally {
    store.close();
  }
}
