import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSION } from '../../../api/codecs/meta.ts';
import type { Engine } from '../../../api/codecs/engine.ts';
import type { Replica } from '../../../api/codecs/replica.ts';
import type { Volume } from '../../../api/codecs/volume.ts';
import { computeVolumeStatus } from '../../../engine/instances/volume-state.ts';

const NOW = '2026-11-25T00:00:00Z';
const vol = (o: { nodeID?: string; state?: string; robustness?: string; deleting?: boolean } = {}): Volume =>
  ({
    apiVersion: API_VERSION,
    kind: 'Volume',
    metadata: { name: 'v', ...(o.deleting ? { deletionTimestamp: NOW } : {}) },
    spec: { size: '1Gi', numberOfReplicas: 3, dataLocality: 'disabled', accessMode: 'rwo', frontend: 'iscsi', ...(o.nodeID !== undefined ? { nodeID: o.nodeID } : {}) },
    ...(o.state !== undefined ? { status: { state: o.state, robustness: o.robustness } } : {}),
  }) as Volume;
const rep = (name: string, state: string, failed = false): Replica =>
  ({
    apiVersion: API_VERSION,
    kind: 'Replica',
    metadata: { name },
    spec: { volumeName: 'v', volumeSize: '1Gi', nodeID: 'n', diskID: '', diskPath: '/d', dataDirectoryName: name, desireState: 'running', failedAt: failed ? NOW : '' },
    status: { currentState: state },
  }) as Replica;
const eng = (modes: Record<string, string>, node = 'n1', running = true): Engine =>
  ({
    apiVersion: API_VERSION,
    kind: 'Engine',
    metadata: { name: 'v-e-0' },
    spec: { volumeName: 'v', volumeSize: '1Gi', nodeID: node, desireState: 'running', frontend: 'iscsi', replicaAddressMap: {} },
    status: running ? { currentState: 'running', portal: '127.0.0.1:3260', iqn: 'iqn.2026-11.io.shorthorn:v', replicaModeMap: modes } : { currentState: 'starting' },
  }) as Engine;
const three = [rep('a', 'running'), rep('b', 'running'), rep('c', 'running')];

describe('volume lifecycle status', () => {
  const cases: Array<{ name: string; v: Volume; e?: Engine; r: Replica[]; state: string; robustness: string }> = [
    { name: 'a new volume without replicas is creating, robustness unknown', v: vol(), r: [], state: 'creating', robustness: 'unknown' },
    { name: 'creating while not every replica runs', v: vol({ state: 'creating' }), r: [rep('a', 'running'), rep('b', 'starting')], state: 'creating', robustness: 'degraded' },
    { name: 'detached once every replica runs', v: vol({ state: 'creating' }), r: three, state: 'detached', robustness: 'healthy' },
    { name: 'detached and degraded when a replica stopped after creation', v: vol({ state: 'detached' }), r: [rep('a', 'running'), rep('b', 'error'), rep('c', 'running')], state: 'detached', robustness: 'degraded' },
    { name: 'a failed replica does not count as healthy', v: vol({ state: 'detached' }), r: [rep('a', 'running', true), rep('b', 'error'), rep('c', 'error')], state: 'detached', robustness: 'faulted' },
    { name: 'attaching until the engine runs', v: vol({ nodeID: 'n1', state: 'detached' }), e: eng({}, 'n1', false), r: three, state: 'attaching', robustness: 'healthy' },
    { name: 'attached and healthy with three RW', v: vol({ nodeID: 'n1' }), e: eng({ a: 'RW', b: 'RW', c: 'RW' }), r: three, state: 'attached', robustness: 'healthy' },
    { name: 'attached and degraded with one ERR', v: vol({ nodeID: 'n1' }), e: eng({ a: 'RW', b: 'ERR', c: 'RW' }), r: three, state: 'attached', robustness: 'degraded' },
    { name: 'WO (rebuilding) is not healthy yet', v: vol({ nodeID: 'n1' }), e: eng({ a: 'RW', b: 'WO', c: 'RW' }), r: three, state: 'attached', robustness: 'degraded' },
    { name: 'attached and faulted with no RW', v: vol({ nodeID: 'n1' }), e: eng({ a: 'ERR' }), r: three, state: 'attached', robustness: 'faulted' },
    { name: 'attaching while the old node still has the engine', v: vol({ nodeID: 'n2' }), e: eng({ a: 'RW', b: 'RW', c: 'RW' }, 'n1'), r: three, state: 'attaching', robustness: 'healthy' },
    { name: 'detaching while the engine is still there', v: vol({ state: 'attached' }), e: eng({ a: 'RW', b: 'RW', c: 'RW' }), r: three, state: 'detaching', robustness: 'healthy' },
    { name: 'deleting keeps the last robustness', v: vol({ deleting: true, state: 'detached', robustness: 'degraded' }), r: [], state: 'deleting', robustness: 'degraded' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = computeVolumeStatus(c.v, c.e, c.r, NOW);
      assert.equal(s.state, c.state);
      assert.equal(s.robustness, c.robustness);
      assert.equal(s.endpoint !== undefined, c.state === 'attached');
    });
  }

  it('the attached endpoint carries a ready-to-paste iscsi URL of LUN 0', () => {
    const s = computeVolumeStatus(vol({ nodeID: 'n1' }), eng({ a: 'RW', b: 'RW', c: 'RW' }), three, NOW);
    assert.deepEqual(s.endpoint, { portal: '127.0.0.1:3260', iqn: 'iqn.2026-11.io.shorthorn:v', url: 'iscsi://127.0.0.1:3260/iqn.2026-11.io.shorthorn:v/0' });
  });

  it('stamps lastDegradedAt when the volume turns degraded, not while it stays so', () => {
    assert.equal(computeVolumeStatus(vol({ state: 'detached', robustness: 'healthy' }), undefined, [rep('a', 'running')], NOW).lastDegradedAt, NOW);
    assert.equal(computeVolumeStatus(vol({ state: 'detached', robustness: 'degraded' }), undefined, [rep('a', 'running')], NOW).lastDegradedAt, undefined);
  });
});
