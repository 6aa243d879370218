import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSettings } from '../../../api/settings.ts';
import type { Facts } from '../../../webhooks/context.ts';
import { mutateVolume } from '../../../webhooks/mutate/volume.ts';

const facts: Facts = { settings: resolveSettings({}), nodes: [], replicas: [], volume: 'unknown' };

/** Odd shapes: the mutator never throws, adds only what it can, and leaves the rest to validation. */
const cases: Array<{ name: string; object: unknown; oldObject?: unknown; operation?: 'CREATE' | 'UPDATE'; ops: (ops: any[]) => void }> = [
  { name: 'not an object: no operations', object: 'volume', ops: (ops) => assert.deepEqual(ops, []) },
  { name: 'null: no operations', object: null, ops: (ops) => assert.deepEqual(ops, []) },
  { name: 'spec is a string: no spec defaults', object: { metadata: { name: 'v' }, spec: 'x' }, ops: (ops) => assert.deepEqual(ops, []) },
  { name: 'spec absent: spec added, then its defaults', object: { metadata: { name: 'v' } }, ops: (ops) => { assert.deepEqual(ops[0], { op: 'add', path: '/spec', value: {} }); assert.ok(ops.some((o) => o.path === '/spec/numberOfReplicas')); } },
  { name: 'spec null: replaced by an object', object: { metadata: { name: 'v' }, spec: null }, ops: (ops) => assert.deepEqual(ops[0], { op: 'add', path: '/spec', value: {} }) },
  { name: 'finalizers not a list: left for validation', object: { metadata: { name: 'v', finalizers: 'x' }, spec: { size: '1Gi' } }, ops: (ops) => assert.ok(!ops.some((o) => o.path.startsWith('/metadata/finalizers'))) },
  { name: 'metadata absent: added with the finalizer', object: { spec: { size: '1Gi' } }, ops: (ops) => assert.deepEqual(ops.slice(-2), [{ op: 'add', path: '/metadata', value: {} }, { op: 'add', path: '/metadata/finalizers', value: ['shorthorn.io'] }]) },
  { name: 'size not a quantity: not rounded', object: { metadata: { name: 'v' }, spec: { size: 'big' } }, ops: (ops) => assert.ok(!ops.some((o) => o.path === '/spec/size')) },
  { name: 'size 0: not rounded (validation refuses it)', object: { metadata: { name: 'v' }, spec: { size: '0' } }, ops: (ops) => assert.ok(!ops.some((o) => o.path === '/spec/size')) },
  { name: 'UPDATE: no rounding, no finalizer', operation: 'UPDATE', object: { metadata: { name: 'v' }, spec: { size: '10G' } }, oldObject: { spec: { size: '10G' } }, ops: (ops) => assert.ok(!ops.some((o) => o.path === '/spec/size' || o.path.startsWith('/metadata'))) },
  { name: 'UPDATE: a dropped field takes the stored value', operation: 'UPDATE', object: { spec: {} }, oldObject: { spec: { numberOfReplicas: 7 } }, ops: (ops) => assert.deepEqual(ops.find((o) => o.path === '/spec/numberOfReplicas'), { op: 'add', path: '/spec/numberOfReplicas', value: 7 }) },
  { name: 'UPDATE of a volume being deleted: nothing', operation: 'UPDATE', object: { spec: {} }, oldObject: { metadata: { deletionTimestamp: '2026-11-24T00:00:00Z' }, spec: {} }, ops: (ops) => assert.deepEqual(ops, []) },
];

describe('mutateVolume on any shape', () => {
  for (const c of cases) it(c.name, () => c.ops(mutateVolume({ operation: c.operation ?? 'CREATE', object: c.object, oldObject: c.oldObject, facts })));
});
