import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineStatus } from '../../../engine/controller/status.ts';
import { progressBar, renderStatus } from '../../../engine/controller/status-view.ts';

describe('progressBar', () => {
  const cases = [
    { done: 0, total: 100, want: '[--------------------]   0%' },
    { done: 45, total: 100, want: '[#########-----------]  45%' },
    { done: 100, total: 100, want: '[####################] 100%' },
    { done: 0, total: 0, want: '[####################] 100%' },
  ];
  for (const c of cases) it(`draws ${c.done}/${c.total}`, () => assert.equal(progressBar(c.done, c.total), c.want));
});

describe('renderStatus', () => {
  const status: EngineStatus = {
    volume: 'v1',
    sizeBytes: 1 << 30,
    replicas: [
      { address: '127.0.0.1:7001', mode: 'RW', revision: '42' },
      { address: '127.0.0.1:7002', mode: 'WO', revision: '7', rebuild: { kind: 'full', source: '127.0.0.1:7001', doneBytes: 512 << 20, totalBytes: 1 << 30, skippedBytes: 0, bytesPerSecond: 100 << 20, elapsedSeconds: 5, finished: false } },
      { address: '127.0.0.1:7003', mode: 'ERR', cause: 'replica 127.0.0.1:7003: write: ENOSPC: no space left on device' },
    ],
  };

  it('shows each replica with mode, revision, rebuild progress and the cause of ERR', () => {
    assert.equal(
      renderStatus(status, true),
      [
        'volume v1  size 1Gi  1/3 RW',
        'REPLICA         MODE  REVISION  REBUILD / CAUSE',
        '127.0.0.1:7001  RW    42',
        '127.0.0.1:7002  WO    7         full rebuild from 127.0.0.1:7001 [##########----------]  50% 512Mi/1Gi 100Mi/s',
        '127.0.0.1:7003  ERR   -         replica 127.0.0.1:7003: write: ENOSPC: no space left on device',
        '',
      ].join('\n'),
    );
  });
});
