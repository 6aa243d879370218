import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyWriteOutcome, type ReplicaMode } from '../../../engine/controller/modes.ts';

const noSpace = () => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
const io = () => new Error('EIO: disk failure');

interface Case {
  readonly name: string;
  readonly writable: Record<string, ReplicaMode>;
  readonly acked: string[];
  readonly failed: Record<string, Error>;
  readonly err: string[];
  readonly code: 'EIO' | 'ENOSPC' | undefined;
}

const cases: Case[] = [
  { name: 'all acked: success, nobody ERR', writable: { a: 'RW', b: 'RW', c: 'RW' }, acked: ['a', 'b', 'c'], failed: {}, err: [], code: undefined },
  { name: 'one RW failed: it goes ERR, the write succeeds', writable: { a: 'RW', b: 'RW', c: 'RW' }, acked: ['a', 'c'], failed: { b: io() }, err: ['b'], code: undefined },
  { name: 'only a WO acked: EIO (a WO replica is not a source of truth)', writable: { a: 'RW', b: 'WO' }, acked: ['b'], failed: { a: io() }, err: ['a'], code: 'EIO' },
  { name: 'all failed: all ERR, EIO', writable: { a: 'RW', b: 'RW' }, acked: [], failed: { a: io(), b: io() }, err: ['a', 'b'], code: 'EIO' },
  { name: 'all out of space: ENOSPC and nobody ERR', writable: { a: 'RW', b: 'RW', c: 'WO' }, acked: [], failed: { a: noSpace(), b: noSpace(), c: noSpace() }, err: [], code: 'ENOSPC' },
  { name: 'one out of space: it goes ERR, the write succeeds', writable: { a: 'RW', b: 'RW' }, acked: ['a'], failed: { b: noSpace() }, err: ['b'], code: undefined },
  { name: 'mixed ENOSPC and EIO with no ack: all ERR, EIO', writable: { a: 'RW', b: 'RW' }, acked: [], failed: { a: noSpace(), b: io() }, err: ['a', 'b'], code: 'EIO' },
  { name: 'no writable replica: EIO', writable: {}, acked: [], failed: {}, err: [], code: 'EIO' },
];

describe('applyWriteOutcome', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = applyWriteOutcome(new Map(Object.entries(c.writable)), { acked: c.acked, failed: new Map(Object.entries(c.failed)) });
      assert.deepEqual([...d.setErr.keys()].sort(), c.err);
      assert.equal(d.error?.code, c.code);
    });
  }

  it('names every failed replica and its cause in the EIO message', () => {
    const d = applyWriteOutcome(new Map<string, ReplicaMode>([['r1', 'RW'], ['r2', 'RW']]), { acked: [], failed: new Map([['r1', io()], ['r2', noSpace()]]) }, (id) => `replica ${id}`);
    assert.match(d.error?.message ?? '', /replica r1: EIO: disk failure; replica r2: ENOSPC/);
  });
});
