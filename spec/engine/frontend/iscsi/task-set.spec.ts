import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskAttribute, TaskSet, type TaskSetMember } from '../../../../engine/frontend/iscsi/task-set.ts';

const { Simple, Ordered, HeadOfQueue } = TaskAttribute;

/** Enters tasks named by their attribute into one set and records which are enabled, in order. */
function harness() {
  const set = new TaskSet();
  const enabled: string[] = [];
  const tasks = new Map<string, TaskSetMember>();
  const enter = (name: string, attr: number) => {
    const t: TaskSetMember = { attr, taskSetState: 'out' };
    tasks.set(name, t);
    if (set.enter(t, () => enabled.push(name))) enabled.push(name);
  };
  const leave = (name: string) => set.leave(tasks.get(name) as TaskSetMember);
  return { set, enabled, enter, leave };
}

describe('task set (SAM-5 §8.6 task attributes, one task set)', () => {
  it('SIMPLE tasks are enabled at once, any number of them', () => {
    const h = harness();
    for (const n of ['a', 'b', 'c']) h.enter(n, Simple);
    assert.deepEqual(h.enabled, ['a', 'b', 'c']);
  });

  it('ORDERED waits for every older task and holds back every newer one', () => {
    const h = harness();
    h.enter('s1', Simple);
    h.enter('s2', Simple);
    h.enter('o', Ordered);
    h.enter('s3', Simple);
    assert.deepEqual(h.enabled, ['s1', 's2']);
    h.leave('s1');
    assert.deepEqual(h.enabled, ['s1', 's2'], 'one older task still runs');
    h.leave('s2');
    assert.deepEqual(h.enabled, ['s1', 's2', 'o']);
    h.leave('o');
    assert.deepEqual(h.enabled, ['s1', 's2', 'o', 's3']);
  });

  it('two ORDERED tasks run one after the other', () => {
    const h = harness();
    h.enter('o1', Ordered);
    h.enter('o2', Ordered);
    h.enter('s', Simple);
    assert.deepEqual(h.enabled, ['o1']);
    h.leave('o1');
    assert.deepEqual(h.enabled, ['o1', 'o2']);
    h.leave('o2');
    assert.deepEqual(h.enabled, ['o1', 'o2', 's']);
  });

  it('HEAD OF QUEUE goes ahead of waiting tasks, and ORDERED and newer SIMPLE wait for it', () => {
    const h = harness();
    h.enter('s1', Simple);
    h.enter('o', Ordered);
    h.enter('h', HeadOfQueue);
    assert.deepEqual(h.enabled, ['s1', 'h']);
    h.enter('s2', Simple);
    h.leave('s1');
    assert.deepEqual(h.enabled, ['s1', 'h'], 'ORDERED waits for the HEAD OF QUEUE task too');
    h.leave('h');
    assert.deepEqual(h.enabled, ['s1', 'h', 'o']);
    h.leave('o');
    assert.deepEqual(h.enabled, ['s1', 'h', 'o', 's2']);
  });

  it('a SIMPLE task arriving while a HEAD OF QUEUE task runs waits for it', () => {
    const h = harness();
    h.enter('h', HeadOfQueue);
    h.enter('s', Simple);
    assert.deepEqual(h.enabled, ['h']);
    h.leave('h');
    assert.deepEqual(h.enabled, ['h', 's']);
  });

  it('a waiting task that leaves (aborted) lets the ones behind it go, and never runs', () => {
    const h = harness();
    h.enter('s1', Simple);
    h.enter('o', Ordered);
    h.enter('s2', Simple);
    h.leave('o');
    assert.deepEqual(h.enabled, ['s1', 's2']);
    assert.equal(h.set.waitingCount, 0);
    h.leave('o');
    h.leave('s1');
    h.leave('s2');
    h.enter('o2', Ordered);
    assert.deepEqual(h.enabled, ['s1', 's2', 'o2'], 'leaving twice changes nothing; the set is empty again');
  });
});
