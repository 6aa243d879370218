import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diskConditions, isUnderPressure, type DiskObservation } from '../../diskmgr/conditions.ts';

const UUID = '11111111-1111-4111-8111-111111111111';
const obs = (over: Partial<DiskObservation> = {}): DiskObservation => ({
  identity: { _tag: 'Ok', diskUUID: UUID, created: false },
  capacity: { maximumBytes: 1000, availableBytes: 500 },
  probe: { ok: true, elapsedMs: 1 },
  ...over,
});
const NOW = '2026-11-25T00:00:00Z';

describe('disk conditions', () => {
  const pressure = [
    { available: 250, pct: 25, under: false },
    { available: 249, pct: 25, under: true },
    { available: 0, pct: 0, under: false },
    { available: 999, pct: 100, under: true },
  ];
  for (const c of pressure) {
    it(`available ${c.available}/1000 at ${c.pct}% minimal is ${c.under ? '' : 'not '}under pressure`, () => {
      assert.equal(isUnderPressure({ maximumBytes: 1000, availableBytes: c.available }, c.pct), c.under);
    });
  }

  const cases: Array<{ name: string; o: DiskObservation; ready: string; readyReason: string; sched: string; schedReason: string }> = [
    { name: 'a healthy disk with room is Ready and Schedulable', o: obs(), ready: 'True', readyReason: 'DiskReady', sched: 'True', schedReason: 'DiskSchedulable' },
    { name: 'a full disk is Ready but not Schedulable (DiskPressure)', o: obs({ capacity: { maximumBytes: 1000, availableBytes: 100 } }), ready: 'True', readyReason: 'DiskReady', sched: 'False', schedReason: 'DiskPressure' },
    { name: 'a changed disk is DiskFilesystemChanged', o: obs({ identity: { _tag: 'Changed', expected: UUID, found: undefined, message: 'gone' } }), ready: 'False', readyReason: 'DiskFilesystemChanged', sched: 'False', schedReason: 'DiskNotReady' },
    { name: 'a failed probe is DiskUnhealthy', o: obs({ probe: { ok: false, message: 'EIO' } }), ready: 'False', readyReason: 'DiskUnhealthy', sched: 'False', schedReason: 'DiskNotReady' },
    { name: 'an unreadable identity is DiskUnhealthy', o: obs({ identity: { _tag: 'Unreadable', message: 'ENOENT' } }), ready: 'False', readyReason: 'DiskUnhealthy', sched: 'False', schedReason: 'DiskNotReady' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [ready, sched] = diskConditions(c.o, 25, undefined, NOW);
      assert.equal(ready?.status, c.ready);
      assert.equal(ready?.reason, c.readyReason);
      assert.equal(sched?.status, c.sched);
      assert.equal(sched?.reason, c.schedReason);
    });
  }

  it('keeps lastTransitionTime while a status does not change', () => {
    const first = diskConditions(obs(), 25, undefined, '2026-01-01T00:00:00Z');
    const second = diskConditions(obs({ capacity: { maximumBytes: 1000, availableBytes: 10 } }), 25, first, NOW);
    assert.equal(second[0]?.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(second[1]?.lastTransitionTime, NOW);
  });
});
