import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import { Informer, type InformerEvent } from '../../scheduler/informer.ts';
import { volume } from './builders.ts';

describe('Informer', { timeout: 30_000 }, () => {
  it('lists, then follows adds, updates and deletes', async () => {
    const store = EmbeddedStore.open({});
    try {
      await store.create('Volume', volume('a'));
      const seen: string[] = [];
      const inf = new Informer(store, 'Volume', { onEvent: (e: InformerEvent<'Volume'>) => seen.push(`${e.type}:${e.object.metadata.name}`) });
      await inf.start();
      await store.create('Volume', volume('b'));
      const b = await store.get('Volume', 'b');
      await store.update('Volume', { ...b, spec: { ...b.spec, numberOfReplicas: 2 } });
      await store.delete('Volume', 'a');
      inf.stop();
      assert.deepEqual(seen, ['add:a', 'add:b', 'update:b', 'delete:a']);
      assert.equal(inf.get('b')?.spec.numberOfReplicas, 2);
      assert.equal(inf.get('a'), undefined);
    } finally {
      store.close();
    }
  });

  it('relists and watches again when its watch ends with Gone', async () => {
    const store = EmbeddedStore.open({ historyLimit: 2 });
    try {
      for (const n of ['a', 'b', 'c', 'd']) await store.create('Volume', volume(n));
      const seen: string[] = [];
      let relisted!: () => void;
      const done = new Promise<void>((r) => (relisted = r));
      // A store whose first watch fails with Gone, as after a long disconnect.
      let first = true;
      const flaky = Object.create(store) as EmbeddedStore;
      flaky.watch = ((kind, opts, onEvent) => {
        if (first) {
          first = false;
          return store.watch(kind, { resourceVersion: '1' }, onEvent);
        }
        relisted();
        return store.watch(kind, opts, onEvent);
      }) as EmbeddedStore['watch'];
      const inf = new Informer(flaky, 'Volume', { onEvent: (e: InformerEvent<'Volume'>) => seen.push(`${e.type}:${e.object.metadata.name}`) });
      await inf.start();
      await done;
      inf.stop();
      assert.deepEqual(seen, ['add:a', 'add:b', 'add:c', 'add:d']);
      assert.deepEqual(inf.list().map((v) => v.metadata.name).sort(), ['a', 'b', 'c', 'd']);
    } finally {
      store.close();
    }
  });
});
