import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { createLogger } from '../../../api/log.ts';
import { startPlacement } from '../../../scheduler/index.ts';
import { MemoryKubeView } from '../../../scheduler/extender/resolver.ts';
import { node, volume } from '../builders.ts';

describe('placement service', () => {
  it('runs the controller and the extender on its own port, and stops cleanly', { timeout: 20_000 }, async () => {
    const store = EmbeddedStore.open({});
    const svc = await startPlacement({ store, log: createLogger('test', { sink: () => undefined }), extender: { host: '127.0.0.1', port: 0, kube: new MemoryKubeView() } });
    try {
      const n = await store.create('Node', node('n1'));
      await store.updateStatus('Node', { ...n, status: node('n1').status });
      await store.create('Volume', volume('v1', { numberOfReplicas: 1 }));
      await svc.controller.idle();
      assert.equal((await store.list('Replica')).items.length, 1);
      assert.match(svc.extenderUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${svc.extenderUrl}/healthz`);
      assert.equal(await health.text(), 'ok');
      const res = await fetch(`${svc.extenderUrl}/filter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Pod: { metadata: { name: 'p' }, spec: {} }, NodeNames: ['n1', 'n2'] }) });
      assert.deepEqual(((await res.json()) as { NodeNames: string[] }).NodeNames, ['n1', 'n2']);
    } finally {
      await svc.stop();
      store.close();
    }
  });
});
