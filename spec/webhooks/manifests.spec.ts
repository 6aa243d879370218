import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KINDS, type Kind } from '../../api/kinds.ts';
import { RULES } from '../../webhooks/rules.ts';

const DIR = join(import.meta.dirname, '..', '..', 'manifests', 'webhooks');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const docs = new Map(files.map((f) => [f, parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Record<string, any>)]));
const one = (file: string) => (docs.get(file) as Record<string, any>[])[0] as Record<string, any>;

/** The operations each resource must be sent with, from what the chain does for its kind. */
function wanted(kind: 'mutating' | 'validating'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of Object.keys(RULES) as Kind[]) {
    const r = RULES[k];
    const ops = kind === 'mutating' ? (r.mutators.length > 0 ? ['CREATE', 'UPDATE'] : []) : ['CREATE', 'UPDATE', ...(r.deleteChecks.length > 0 ? ['DELETE'] : [])];
    if (ops.length > 0) out.set(KINDS[k].plural, ops);
  }
  return out;
}

describe('manifests/webhooks', () => {
  it('holds one object a file, each labelled shorthorn/webhooks', () => {
    for (const [file, objects] of docs) {
      assert.equal(objects.length, 1, file);
      assert.deepEqual(objects[0]?.metadata.labels, { 'app.kubernetes.io/name': 'shorthorn', 'app.kubernetes.io/component': 'webhooks' }, file);
    }
    assert.deepEqual(files.map((f) => one(f).kind).sort(), ['Deployment', 'MutatingWebhookConfiguration', 'Service', 'ValidatingWebhookConfiguration']);
  });

  for (const [file, kind, path] of [['mutating-webhook-configuration.yaml', 'mutating', '/mutate'], ['validating-webhook-configuration.yaml', 'validating', '/validate']] as const) {
    it(`${file}: Fail, None, 10 s, v1, Equivalent, and a rule for every kind and operation the chain handles`, () => {
      const c = one(file);
      assert.equal(c.webhooks.length, 1);
      const w = c.webhooks[0];
      assert.equal(w.failurePolicy, 'Fail');
      assert.equal(w.sideEffects, 'None');
      assert.equal(w.timeoutSeconds, 10);
      assert.deepEqual(w.admissionReviewVersions, ['v1']);
      assert.equal(w.matchPolicy, 'Equivalent');
      if (kind === 'mutating') assert.equal(w.reinvocationPolicy, 'IfNeeded');
      assert.deepEqual(w.clientConfig.service, { name: 'shorthorn-webhooks', namespace: 'shorthorn-system', path, port: 443 });
      const got = new Map<string, string[]>();
      for (const r of w.rules) {
        assert.deepEqual([r.apiGroups, r.apiVersions, r.scope], [['shorthorn.io'], ['v1beta1'], 'Namespaced']);
        for (const res of r.resources) got.set(res, r.operations);
      }
      assert.deepEqual(got, wanted(kind));
    });
  }

  it('the Service reaches the Deployment\'s https port, and the Deployment runs `shorthorn webhooks`', () => {
    const svc = one('service.yaml');
    const dep = one('deployment.yaml');
    assert.deepEqual(svc.spec.selector, dep.spec.selector.matchLabels);
    assert.deepEqual(dep.spec.template.metadata.labels, dep.spec.selector.matchLabels);
    const container = dep.spec.template.spec.containers[0];
    assert.equal(container.args[0], 'webhooks');
    assert.ok(container.ports.some((p: { name: string }) => p.name === svc.spec.ports[0].targetPort));
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  });
});
