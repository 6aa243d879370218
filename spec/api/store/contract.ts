import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isStoreError } from '../../../api/store/errors.ts';
import type { ObjectStore, WatchEvent } from '../../../api/store/port.ts';
import type { Kind } from '../../../api/kinds.ts';
import { volume } from '../../helpers/objects.ts';

/** What a contract run needs from an adapter: open a durable store, and restart it on the same data. */
export interface StoreFixture {
  open(opts?: { historyLimit?: number }): Promise<ObjectStore>;
  restart(): Promise<ObjectStore>;
  close(): Promise<void>;
}

async function rejectsWith(p: Promise<unknown>, reason: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStoreError(e), `expected a StoreError, got ${String(e)}`);
    assert.equal(e.reason, reason, `reason of: ${e.message}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

/** Collects watch events until `until` says stop (no sleeps: resolves on the matching event). */
function collect<K extends Kind>(store: ObjectStore, kind: K, opts: Parameters<ObjectStore['watch']>[1], until: (events: WatchEvent<K>[]) => boolean) {
  const events: WatchEvent<K>[] = [];
  let handle!: ReturnType<ObjectStore['watch']>;
  const reached = new Promise<WatchEvent<K>[]>((resolve, reject) => {
    handle = store.watch(kind, opts, (e) => {
      if (e.type === 'BOOKMARK') return;
      events.push(e);
      if (until(events)) resolve(events);
    });
    handle.done.then(() => resolve(events), reject);
  });
  return { events, reached, handle };
}

const names = (evs: WatchEvent[]) => evs.map((e) => (e.type === 'BOOKMARK' ? 'BOOKMARK' : `${e.type}:${e.object.metadata.name}`));

/** The behaviour every ObjectStore adapter must have: Kubernetes API semantics. */
export function storeContract(label: string, fixture: () => StoreFixture): void {
  describe(`ObjectStore contract: ${label}`, () => {
    let fx: StoreFixture;
    let store: ObjectStore;
    before(async () => {
      fx = fixture();
      store = await fx.open({ historyLimit: 200 });
    });
    after(async () => fx.close());

    it('creates an object and fills the system metadata', async () => {
      const v = await store.create('Volume', volume('c1'));
      assert.equal(v.metadata.name, 'c1');
      assert.equal(v.metadata.namespace, store.namespace);
      assert.equal(v.metadata.generation, 1);
      assert.match(v.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
      assert.match(v.metadata.resourceVersion ?? '', /^\d+$/);
      assert.deepEqual((await store.get('Volume', 'c1')).spec, v.spec);
    });

    it('refuses a duplicate name with AlreadyExists and a missing object with NotFound', async () => {
      await store.create('Volume', volume('dup'));
      await rejectsWith(store.create('Volume', volume('dup')), 'AlreadyExists', /"dup" already exists/);
      await rejectsWith(store.get('Volume', 'nope'), 'NotFound', /"nope" not found/);
    });

    it('generates a name from generateName', async () => {
      const v = await store.create('Volume', { ...volume(''), metadata: { name: '', generateName: 'gen-' } });
      assert.match(v.metadata.name, /^gen-[a-z0-9]{5}$/);
    });

    it('refuses an invalid object with a message naming the field and the rule', async () => {
      await rejectsWith(store.create('Volume', volume('bad', { numberOfReplicas: 0 })), 'Invalid', /spec\.numberOfReplicas: expected an integer from 1 to 20, got 0/);
      await rejectsWith(store.create('Volume', volume('Bad_Name')), 'Invalid', /metadata\.name/);
    });

    it('treats a stale resourceVersion as a Conflict and bumps generation only on spec changes', async () => {
      const v = await store.create('Volume', volume('occ'));
      const v2 = await store.update('Volume', { ...v, spec: { ...v.spec, numberOfReplicas: 2 } });
      assert.equal(v2.metadata.generation, 2);
      assert.notEqual(v2.metadata.resourceVersion, v.metadata.resourceVersion);
      await rejectsWith(store.update('Volume', { ...v, spec: { ...v.spec, numberOfReplicas: 1 } }), 'Conflict', /has been modified/);
      const v3 = await store.update('Volume', { ...v2, metadata: { ...v2.metadata, labels: { a: 'b' } } });
      assert.equal(v3.metadata.generation, 2, 'a label change is not a spec change');
      const same = await store.update('Volume', v3);
      assert.equal(same.metadata.resourceVersion, v3.metadata.resourceVersion, 'a no-op update writes nothing');
      await rejectsWith(store.update('Volume', { ...v3, metadata: { ...v3.metadata, resourceVersion: undefined } } as never), 'Invalid', /resourceVersion: must be specified/);
    });

    it('keeps status a subresource: update ignores status, updateStatus ignores spec', async () => {
      const v = await store.create('Volume', { ...volume('st'), status: { state: 'attached' } });
      assert.equal(v.status, undefined, 'status is dropped on create');
      const s = await store.updateStatus('Volume', { ...v, spec: { ...v.spec, numberOfReplicas: 1 }, status: { state: 'detached' } });
      assert.equal(s.status?.state, 'detached');
      assert.equal(s.spec.numberOfReplicas, 3);
      assert.equal(s.metadata.generation, 1);
      const u = await store.update('Volume', { ...s, status: { state: 'attached' } });
      assert.equal(u.status?.state, 'detached');
    });

    it('applies merge and JSON patches, to the object and to its status', async () => {
      await store.create('Volume', volume('p1'));
      const m = await store.patch('Volume', 'p1', { type: 'merge', value: { spec: { numberOfReplicas: 2 }, metadata: { labels: { x: 'y' } } } });
      assert.equal(m.spec.numberOfReplicas, 2);
      assert.equal(m.metadata.labels?.x, 'y');
      const j = await store.patch('Volume', 'p1', { type: 'json', ops: [{ op: 'replace', path: '/spec/size', value: '2Gi' }] });
      assert.equal(j.spec.size, '2Gi');
      const s = await store.patch('Volume', 'p1', { type: 'merge', value: { status: { robustness: 'healthy' } } }, { subresource: 'status' });
      assert.equal(s.status?.robustness, 'healthy');
      await rejectsWith(store.patch('Volume', 'p1', { type: 'json', ops: [{ op: 'test', path: '/spec/size', value: '9Gi' }] }), 'Invalid', /test failed/);
      await rejectsWith(store.patch('Volume', 'p1', { type: 'merge', value: { metadata: { resourceVersion: '1' } } }), 'Conflict');
    });

    it('deletes through finalizers: deletionTimestamp first, gone when the last finalizer is removed', async () => {
      await store.create('Volume', volume('fin', {}, { finalizers: ['shorthorn.io'] }));
      const w = collect(store, 'Volume', { resourceVersion: (await store.get('Volume', 'fin')).metadata.resourceVersion }, (evs) => evs.some((e) => e.type === 'DELETED'));
      const marked = await store.delete('Volume', 'fin');
      assert.ok(marked.metadata.deletionTimestamp, 'deletionTimestamp set');
      const again = await store.get('Volume', 'fin');
      assert.deepEqual(again.metadata.finalizers, ['shorthorn.io']);
      await rejectsWith(store.update('Volume', { ...again, metadata: { ...again.metadata, finalizers: ['shorthorn.io', 'other'] } }), 'Forbidden', /no new finalizers/);
      await store.update('Volume', { ...again, metadata: { ...again.metadata, finalizers: [] } });
      await rejectsWith(store.get('Volume', 'fin'), 'NotFound');
      assert.deepEqual(names(await w.reached), ['MODIFIED:fin', 'DELETED:fin']);
      w.handle.stop();
      await store.create('Volume', volume('plain'));
      const gone = await store.delete('Volume', 'plain');
      assert.equal(gone.metadata.name, 'plain');
      await rejectsWith(store.get('Volume', 'plain'), 'NotFound');
      await rejectsWith(store.delete('Volume', 'plain'), 'NotFound');
    });

    it('lists by label selector: equality, set and existence requirements', async () => {
      await store.create('Volume', volume('l1', {}, { labels: { tier: 'gold', zone: 'a' } }));
      await store.create('Volume', volume('l2', {}, { labels: { tier: 'silver', zone: 'b' } }));
      await store.create('Volume', volume('l3', {}, { labels: { tier: 'gold' } }));
      const cases: Array<[string, string[]]> = [
        ['tier=gold', ['l1', 'l3']],
        ['tier!=gold', ['l2']],
        ['tier in (gold,silver),zone', ['l1', 'l2']],
        ['tier notin (gold),tier', ['l2']],
        ['tier,!zone', ['l3']],
      ];
      for (const [sel, want] of cases) {
        const got = (await store.list('Volume', { labelSelector: sel })).items.map((v) => v.metadata.name).filter((n) => n.startsWith('l'));
        assert.deepEqual(got, want, sel);
      }
      await rejectsWith(store.list('Volume', { labelSelector: 'tier in gold' }), 'BadRequest', /label selector|label/);
    });

    it('watches: ADDED for what exists, then changes; a selector watch sees objects enter and leave', async () => {
      await store.create('Volume', volume('w1', {}, { labels: { app: 'x' } }));
      const all = collect(store, 'Volume', { labelSelector: 'app=x' }, (evs) => evs.length >= 4);
      const v = await store.get('Volume', 'w1');
      await store.update('Volume', { ...v, spec: { ...v.spec, numberOfReplicas: 1 } });
      const v2 = await store.get('Volume', 'w1');
      await store.update('Volume', { ...v2, metadata: { ...v2.metadata, labels: { app: 'y' } } });
      await store.create('Volume', volume('w2', {}, { labels: { app: 'x' } }));
      assert.deepEqual(names(await all.reached), ['ADDED:w1', 'MODIFIED:w1', 'DELETED:w1', 'ADDED:w2']);
      all.handle.stop();
      await all.handle.done;
    });

    it('resumes a watch from a resourceVersion and says Gone when it is too old', async () => {
      const from = (await store.list('Volume')).resourceVersion;
      await store.create('Volume', volume('r1'));
      await store.create('Volume', volume('r2'));
      const w = collect(store, 'Volume', { resourceVersion: from }, (evs) => evs.length >= 2);
      assert.deepEqual(names(await w.reached), ['ADDED:r1', 'ADDED:r2']);
      w.handle.stop();
      for (let i = 0; i < 210; i++) await store.patch('Volume', 'r1', { type: 'merge', value: { metadata: { labels: { i: String(i) } } } });
      const old = store.watch('Volume', { resourceVersion: from }, () => undefined);
      await assert.rejects(old.done, (e: unknown) => isStoreError(e, 'Gone'));
    });

    it('sends BOOKMARK events with the latest resourceVersion when asked, and none otherwise', async () => {
      const latest = (await store.list('Volume')).resourceVersion;
      const plain: string[] = [];
      const quiet = store.watch('Volume', { resourceVersion: latest }, (e) => plain.push(e.type));
      const bookmark = await new Promise<string>((resolve, reject) => {
        // The store's bookmark timer does not keep a process alive; this bounded guard does.
        const guard = setTimeout(() => reject(new Error('no BOOKMARK within 5 s')), 5000);
        const h = store.watch('Volume', { resourceVersion: latest, allowBookmarks: true }, (e) => {
          if (e.type === 'BOOKMARK') {
            clearTimeout(guard);
            h.stop();
            resolve(e.resourceVersion);
          }
        });
        h.done.catch(reject);
      });
      quiet.stop();
      assert.equal(bookmark, latest);
      assert.deepEqual(plain, [], 'no event without allowBookmarks while nothing changes');
    });

    it('loses no update under concurrent read-modify-write writers', async () => {
      await store.create('Volume', volume('cc', {}, { annotations: { n: '0' } }));
      const bump = async () => {
        for (;;) {
          const v = await store.get('Volume', 'cc');
          const n = Number(v.metadata.annotations?.n ?? '0');
          try {
            await store.update('Volume', { ...v, metadata: { ...v.metadata, annotations: { n: String(n + 1) } } });
            return;
          } catch (e) {
            if (!isStoreError(e, 'Conflict')) throw e;
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, bump));
      assert.equal((await store.get('Volume', 'cc')).metadata.annotations?.n, '20');
    });

    it('keeps every object across a restart and resumes a watch from before it', async () => {
      await store.create('Volume', volume('keep', { size: '5Gi' }));
      const rv = (await store.get('Volume', 'keep')).metadata.resourceVersion as string;
      await store.patch('Volume', 'keep', { type: 'merge', value: { spec: { numberOfReplicas: 2 } } });
      store = await fx.restart();
      const v = await store.get('Volume', 'keep');
      assert.equal(v.spec.size, '5Gi');
      assert.equal(v.spec.numberOfReplicas, 2);
      const w = collect(store, 'Volume', { resourceVersion: rv }, (evs) => evs.length >= 2);
      await store.patch('Volume', 'keep', { type: 'merge', value: { spec: { numberOfReplicas: 1 } } });
      const evs = await w.reached;
      w.handle.stop();
      assert.deepEqual(names(evs), ['MODIFIED:keep', 'MODIFIED:keep']);
      assert.equal(evs[1]?.type !== 'BOOKMARK' && evs[1]?.object.spec.numberOfReplicas, 1);
    });
  });
}
