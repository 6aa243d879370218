import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CachedKubeView } from '../../../scheduler/extender/cached-kube-view.ts';
import { MemoryKubeView, type KubeVolumeView } from '../../../scheduler/extender/resolver.ts';

function counting(inner: KubeVolumeView): { view: KubeVolumeView; calls: () => number } {
  let n = 0;
  return {
    calls: () => n,
    view: {
      claim: (ns, name) => (n++, inner.claim(ns, name)),
      persistentVolume: (name) => (n++, inner.persistentVolume(name)),
      storageClass: (name) => (n++, inner.storageClass(name)),
    },
  };
}

describe('CachedKubeView', () => {
  it('answers repeated lookups from memory until the TTL passes, then asks again', async () => {
    const mem = new MemoryKubeView().addClaim({ namespace: 'ns', name: 'c', storageClassName: 'sc' });
    const inner = counting(mem);
    const clock = { t: 0 };
    const cache = new CachedKubeView(inner.view, () => clock.t, { claimMs: 100, persistentVolumeMs: 100, storageClassMs: 100 });
    assert.equal((await cache.claim('ns', 'c'))?.storageClassName, 'sc');
    await cache.claim('ns', 'c');
    assert.equal(inner.calls(), 1);
    mem.addClaim({ namespace: 'ns', name: 'c', volumeName: 'pv-1' });
    assert.equal((await cache.claim('ns', 'c'))?.volumeName, undefined, 'still the cached answer');
    clock.t = 101;
    assert.equal((await cache.claim('ns', 'c'))?.volumeName, 'pv-1', 'the binding is seen after the TTL');
    assert.equal(inner.calls(), 2);
  });

  it('does not remember failures', async () => {
    let fail = true;
    const flaky: KubeVolumeView = {
      claim: async () => {
        if (fail) throw new Error('connection refused');
        return { name: 'c', namespace: 'ns' };
      },
      persistentVolume: async () => undefined,
      storageClass: async () => undefined,
    };
    const cache = new CachedKubeView(flaky, () => 0);
    await assert.rejects(cache.claim('ns', 'c'), /connection refused/);
    fail = false;
    assert.equal((await cache.claim('ns', 'c'))?.name, 'c');
  });
});
