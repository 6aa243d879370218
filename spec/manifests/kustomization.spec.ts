import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..', '..', 'manifests');

describe('manifests/kustomization.yaml', () => {
  const k = parseAllDocuments(readFileSync(join(root, 'kustomization.yaml'), 'utf8'))[0]?.toJSON() as { resources: string[] };
  it('lists only files that exist, each parsing as Kubernetes objects with apiVersion, kind and a name', () => {
    for (const r of k.resources) {
      const p = join(root, r);
      assert.ok(existsSync(p), r);
      for (const doc of parseAllDocuments(readFileSync(p, 'utf8'))) {
        const o = doc.toJSON() as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
        assert.ok(o.apiVersion && o.kind && o.metadata?.name, `${r}: apiVersion, kind and metadata.name`);
      }
    }
  });
  it('lists every manifest of the base components (crds, rbac, agent, placement, webhooks)', () => {
    for (const dir of ['crds', 'rbac', 'agent', 'placement', 'webhooks']) {
      for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith('.yaml'))) assert.ok(k.resources.includes(`${dir}/${f}`), `${dir}/${f} is not in the kustomization`);
    }
  });
  it('runs the cluster controllers with `shorthorn manager` in the placement Deployment', () => {
    const d = parseAllDocuments(readFileSync(join(root, 'placement', 'deployment.yaml'), 'utf8'))[0]?.toJSON() as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
    assert.equal(d.spec.template.spec.containers[0]?.args[0], 'manager');
  });
});
