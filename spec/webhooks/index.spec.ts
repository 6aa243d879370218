import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import type { ObjectStore } from '../../api/store/port.ts';
import { createAdmission } from '../../webhooks/index.ts';

/** An embedded store whose admission chain reads the store itself (through a late-bound reference). */
function openStore(): EmbeddedStore {
  let self: ObjectStore | undefined;
  const reader: Pick<ObjectStore, 'get' | 'list'> = {
    get: (kind, name) => (self as ObjectStore).get(kind, name),
    list: (kind, opts) => (self as ObjectStore).list(kind, opts),
  };
  const store = EmbeddedStore.open({ admission: createAdmission({ store: reader }) });
  self = store;
  return store;
}

const volume = (spec: Record<string, unknown>) => ({ apiVersion: 'shorthorn.io/v1beta1', kind: 'Volume', metadata: { name: 'v1' }, spec }) as never;

describe('createAdmission in the embedded store', () => {
  it('defaults a Volume on create: Settings, rwo, iscsi, finalizer, size rounded to 2 MiB', async () => {
    const store = openStore();
    await store.create('Setting', { apiVersion: 'shorthorn.io/v1beta1', kind: 'Setting', metadata: { name: 'default-replica-count' }, value: '2' } as never);
    const v = await store.create('Volume', volume({ size: '1G' }));
    assert.equal(v.spec.size, '954Mi');
    assert.equal(v.spec.numberOfReplicas, 2);
    assert.equal(v.spec.accessMode, 'rwo');
    assert.equal(v.spec.frontend, 'iscsi');
    assert.deepEqual(v.metadata.finalizers, ['shorthorn.io']);
    store.close();
  });

  it('refuses a Volume whose numberOfReplicas is 0 and names the field', async () => {
    const store = openStore();
    await assert.rejects(store.create('Volume', volume({ size: '1Gi', numberOfReplicas: 0 })), { message: 'spec.numberOfReplicas: expected an integer from 1 to 20, got 0' });
    store.close();
  });
});
