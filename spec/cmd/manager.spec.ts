import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { listenApiServer } from '../../api/store/apiserver.ts';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import { createAdmission } from '../../webhooks/index.ts';
import type { Admission } from '../../api/store/port.ts';
import { startShorthorn } from '../helpers/cli.ts';
import { node, volume } from '../helpers/objects.ts';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// `shorthorn manager` as a real process against the dev API server (the fake kube-apiserver).
describe('shorthorn manager runs placement and the volume lifecycle against an API server', { timeout: 90_000 }, () => {
  let chain: Admission | undefined;
  const store = EmbeddedStore.open({ admission: (r) => (chain as Admission)(r) });
  chain = createAdmission({ store });
  let api: Awaited<ReturnType<typeof listenApiServer>>;
  let manager: ChildProcess;

  before(async () => {
    api = await listenApiServer({ store }, '127.0.0.1', 0);
    manager = (await startShorthorn(['manager', '--server', api.url, '--extender-listen', '127.0.0.1:0'], /extender listening on (\S+)/)).child;
  });
  after(async () => {
    const gone = once(manager, 'exit');
    manager.kill('SIGTERM');
    await gone;
    await api.close();
    store.close();
  });

  it('places replicas for a new volume and, on delete, clears its finalizer once its replicas are gone', async () => {
    for (const n of ['n1', 'n2', 'n3']) {
      const created = await store.create('Node', node(n, { d1: `/var/lib/shorthorn/${n}` }));
      await store.updateStatus('Node', {
        ...created,
        status: {
          lastHeartbeatTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          conditions: [{ type: 'Ready', status: 'True' }, { type: 'Schedulable', status: 'True' }],
          diskStatus: { d1: { storageMaximum: String(100 * 2 ** 30), storageAvailable: String(90 * 2 ** 30), conditions: [{ type: 'Ready', status: 'True' }, { type: 'Schedulable', status: 'True' }] } },
        },
      });
    }
    await store.create('Volume', volume('m1', { size: '1Gi', numberOfReplicas: 3 }));
    const replicas = await until('three replicas', 30_000, async () => {
      const rs = (await store.list('Replica')).items.filter((r) => r.spec.volumeName === 'm1');
      return rs.length === 3 ? rs : undefined;
    });
    assert.deepEqual(replicas.map((r) => r.spec.nodeID).sort(), ['n1', 'n2', 'n3']);
    // Node liveness marks the agents running from their heartbeats; one that never beat is unreachable.
    await store.create('Node', node('n4', { d1: '/var/lib/shorthorn/n4' }));
    await until('agent states', 30_000, async () => {
      const ns = (await store.list('Node')).items;
      const states = Object.fromEntries(ns.map((n) => [n.metadata.name, n.status?.agentState]));
      return states.n1 === 'running' && states.n4 === 'unreachable' ? true : undefined;
    });
    await until('a lifecycle state', 30_000, async () => ((await store.get('Volume', 'm1')).status?.state ? true : undefined));
    await store.delete('Volume', 'm1');
    await until('the volume and its replicas to be gone', 30_000, async () => {
      const vs = (await store.list('Volume')).items.length;
      const rs = (await store.list('Replica')).items.length;
      return vs === 0 && rs === 0 ? true : undefined;
    });
  });
});
