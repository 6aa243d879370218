import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

const read = (p: string) => readFileSync(new URL(`../../manifests/${p}`, import.meta.url), 'utf8');

describe('scheduler manifests', () => {
  const direct = parse(read('scheduler/kube-scheduler-config.yaml'));
  const second = parse(parse(read('scheduler/configmap.yaml')).data['config.yaml']);
  const service = parse(read('placement/service.yaml'));
  for (const [name, cfg] of [['kube-scheduler-config.yaml', direct], ['configmap.yaml', second]] as const) {
    it(`${name} declares the extender as the extender serves it`, () => {
      assert.equal(cfg.apiVersion, 'kubescheduler.config.k8s.io/v1');
      assert.equal(cfg.kind, 'KubeSchedulerConfiguration');
      const [ext] = cfg.extenders;
      assert.equal(ext.urlPrefix, `http://${service.metadata.name}.${service.metadata.namespace}.svc:${service.spec.ports[0].port}`);
      assert.equal(ext.filterVerb, 'filter');
      assert.equal(ext.prioritizeVerb, 'prioritize');
      assert.ok(ext.weight > 0, 'weight must be positive with a prioritize verb');
      assert.equal(ext.nodeCacheCapable, true);
      assert.equal(ext.ignorable, false);
      assert.match(ext.httpTimeout, /^\d+s$/);
    });
  }

  it('the second scheduler has its own profile and lease', () => {
    assert.equal(second.profiles[0].schedulerName, 'shorthorn-scheduler');
    assert.equal(second.leaderElection.resourceName, 'shorthorn-scheduler');
  });

  it('every manifest parses and carries the common labels', () => {
    for (const f of ['scheduler/deployment.yaml', 'scheduler/serviceaccount.yaml', 'scheduler/clusterrolebinding-kube-scheduler.yaml', 'scheduler/clusterrolebinding-volume-scheduler.yaml', 'scheduler/rolebinding-extension-apiserver.yaml', 'placement/deployment.yaml', 'placement/service.yaml']) {
      for (const d of parseAllDocuments(read(f))) {
        assert.deepEqual(d.errors, [], f);
        const o = d.toJS();
        assert.equal(o.metadata.labels['app.kubernetes.io/name'], 'shorthorn', f);
      }
    }
  });
});
