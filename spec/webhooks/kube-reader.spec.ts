import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../api/store/errors.ts';
import { kubeReader } from '../../webhooks/kube-reader.ts';

type Call = { fn: string; param: Record<string, unknown> };

/** A fake of the two custom-objects calls: answers from a map, or throws as client-node's ApiException does (a `code`). */
function fakeApi(objects: Record<string, unknown[]>, failWith?: number) {
  const calls: Call[] = [];
  const fail = () => Object.assign(new Error(`HTTP-Code: ${failWith}`), { code: failWith });
  return {
    calls,
    api: {
      getNamespacedCustomObject: async (param: Record<string, unknown>) => {
        calls.push({ fn: 'get', param });
        if (failWith !== undefined) throw fail();
        const found = (objects[param.plural as string] ?? []).find((o) => (o as { metadata: { name: string } }).metadata.name === param.name);
        if (found === undefined) throw Object.assign(new Error('HTTP-Code: 404'), { code: 404 });
        return found;
      },
      listNamespacedCustomObject: async (param: Record<string, unknown>) => {
        calls.push({ fn: 'list', param });
        if (failWith !== undefined) throw fail();
        return { items: objects[param.plural as string] ?? [], metadata: { resourceVersion: '42' } };
      },
    } as never,
  };
}

describe('kubeReader', () => {
  it('lists and gets shorthorn.io objects in its namespace', async () => {
    const v = { metadata: { name: 'v1' } };
    const { api, calls } = fakeApi({ volumes: [v], settings: [] });
    const r = kubeReader(api, 'shorthorn-system');
    assert.deepEqual(await r.list('Setting'), { items: [], resourceVersion: '42' });
    assert.deepEqual(await r.get('Volume', 'v1'), v);
    assert.deepEqual(calls, [
      { fn: 'list', param: { group: 'shorthorn.io', version: 'v1beta1', namespace: 'shorthorn-system', plural: 'settings' } },
      { fn: 'get', param: { group: 'shorthorn.io', version: 'v1beta1', namespace: 'shorthorn-system', plural: 'volumes', name: 'v1' } },
    ]);
  });

  it('turns a 404 into a NotFound StoreError (the chain reads it as "volume does not exist")', async () => {
    const r = kubeReader(fakeApi({}).api, 'ns');
    await assert.rejects(r.get('Volume', 'nope'), (e) => isStoreError(e, 'NotFound') && /volumes\.shorthorn\.io "nope" not found/.test(e.message));
  });

  it('turns other failures into an InternalError StoreError', async () => {
    const r = kubeReader(fakeApi({}, 503).api, 'ns');
    await assert.rejects(r.list('Node'), (e) => isStoreError(e, 'InternalError'));
  });
});
