import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../../api/log.ts';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { observeHeartbeat, startHeartbeat, startNodeLiveness, HEARTBEAT_TIMEOUT_MS } from '../../../engine/instances/node-liveness.ts';
import { node } from '../../helpers/objects.ts';

const quiet = createLogger('test', { sink: () => undefined });
const T0 = Date.parse('2026-11-25T01:00:00Z');

describe('node liveness from agent heartbeats', () => {
  const BEAT = '2026-11-25T01:00:00Z';
  const cases: Array<[string, string | undefined, { heartbeat: string; seenAtMs: number } | undefined, number, 'running' | 'unreachable']> = [
    ['never beat', undefined, undefined, 0, 'unreachable'],
    ['first seen (a restarted manager: a full timeout of grace)', BEAT, undefined, 1_000_000, 'running'],
    ['unchanged up to the timeout', BEAT, { heartbeat: BEAT, seenAtMs: 0 }, HEARTBEAT_TIMEOUT_MS, 'running'],
    ['unchanged past the timeout', BEAT, { heartbeat: BEAT, seenAtMs: 0 }, HEARTBEAT_TIMEOUT_MS + 1000, 'unreachable'],
    ['changed after the timeout (the agent is back)', '2026-11-25T01:01:00Z', { heartbeat: BEAT, seenAtMs: 0 }, HEARTBEAT_TIMEOUT_MS + 1000, 'running'],
  ];
  for (const [name, beat, seen, now, want] of cases) {
    it(`${name}: ${want}`, () => {
      assert.equal(observeHeartbeat(beat, seen, now).state, want);
    });
  }

  it('marks a node unreachable when its agent stops beating, and running again when it comes back', async () => {
    const store = EmbeddedStore.open({});
    await store.create('Node', node('n1'));
    let wall = T0;
    let mono = 0;
    const hb = startHeartbeat({ store, node: 'n1', log: quiet, intervalMs: 60_000, now: () => wall });
    await hb.beat();
    hb.stop();
    const live = startNodeLiveness({ store, log: quiet, resyncMs: 60_000, monotonicNow: () => mono });
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'running');
    assert.equal((await store.get('Node', 'n1')).status?.lastHeartbeatTime, '2026-11-25T01:00:00Z');
    mono += HEARTBEAT_TIMEOUT_MS + 5000;
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'unreachable');
    wall += 60_000;
    await hb.beat();
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'running');
    const rv = (await store.get('Node', 'n1')).metadata.resourceVersion;
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).metadata.resourceVersion, rv, 'an unchanged state is not written again');
    await live.stop();
    store.close();
  });

  it('a restarted liveness loop does not call running nodes dead for heartbeats older than the timeout (it times them itself)', async () => {
    const store = EmbeddedStore.open({});
    await store.create('Node', node('n1'));
    // The last beat is ten minutes old by the wall clock (the cluster was down, or the clock jumped).
    const hb = startHeartbeat({ store, node: 'n1', log: quiet, intervalMs: 60_000, now: () => Date.now() - 600_000 });
    await hb.beat();
    hb.stop();
    await store.patch('Node', 'n1', { type: 'merge', value: { status: { agentState: 'running' } } }, { subresource: 'status' });
    let mono = 0;
    const live = startNodeLiveness({ store, log: quiet, resyncMs: 60_000, monotonicNow: () => mono });
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'running', 'a full timeout of grace from the loop\'s start');
    mono += HEARTBEAT_TIMEOUT_MS + 1;
    await live.runOnce();
    assert.equal((await store.get('Node', 'n1')).status?.agentState, 'unreachable', 'no beat for a whole timeout after that');
    await live.stop();
    store.close();
  });
});
