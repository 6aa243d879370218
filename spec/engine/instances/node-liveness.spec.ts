import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../../api/log.ts';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { agentStateOf, startHeartbeat, startNodeLiveness, HEARTBEAT_TIMEOUT_MS } from '../../../engine/instances/node-liveness.ts';
import { node } from '../../helpers/objects.ts';

const quiet = createLogger('test', { sink: () => undefined });
const T0 = Date.parse('2026-11-25T01:00:00Z');

describe('node liveness from agent heartbeats', () => {
  const cases: Array<[string, string | undefined, number, 'running' | 'unreachable']> = [
    ['never beat', undefined, T0, 'unreachable'],
    ['beat just now', '2026-11-25T01:00:00Z', T0, 'running'],
    ['beat at the timeout', '2026-11-25T01:00:00Z', T0 + HEARTBEAT_TIMEOUT_MS, 'running'],
    ['beat past the timeout', '2026-11-25T01:00:00Z', T0 + HEARTBEAT_TIMEOUT_MS + 1000, 'unreachable'],
  ];
  for (const [name, beat, now, want] of cases) {
    it(`${name}: ${want}`, () => {
      const n = { ...node('n1'), status: beat === undefined ? {} : { lastHeartbeatTime: beat } };
      assert.equal(agentStateOf(n, now), want);
    });
  }

  it('marks a node unreachable when its agent stops beating, and running again when it comes back', async () => {
    const store = EmbeddedStore.open({});
    await store.create('Node', node('n1'));
    let now = T0;
    const hb = startHeartbeat({ store, node: 'n1', log: quiet, intervalMs: 60_000, now: () => now });
    await hb.beat();
    hb.stop();
    const live = startNodeLiveness({ store, log: quiet, resyncMs: 60_000, now: () => now });
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'running');
    assert.equal((await store.get('Node', 'n1')).status?.lastHeartbeatTime, '2026-11-25T01:00:00Z');
    now += HEARTBEAT_TIMEOUT_MS + 5000;
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'unreachable');
    await hb.beat();
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'running');
    const rv = (await store.get('Node', 'n1')).metadata.resourceVersion;
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).metadata.resourceVersion, rv, 'an unchanged state is not written again');
    await live.stop();
    store.close();
  });
});
