import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../api/codecs/node.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import { resolveSettings } from '../../api/settings.ts';
import { decide, type Step } from '../../scheduler/decide.ts';
import { buildGraph } from '../../scheduler/graph/build.ts';
import { node, replica, volume } from './builders.ts';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A volume whose listed replicas are all healthy (running, RW). */
function healthy(v: Volume, names: string[]): Volume {
  return { ...v, status: { replicaModes: Object.fromEntries(names.map((n) => [n, 'RW'])) } };
}

interface Case {
  name: string;
  nodes: Node[];
  replicas: Replica[];
  volume: Volume;
  settings?: Record<string, string>;
  step: Partial<Step> & { kind: Step['kind'] };
  retry?: boolean;
  /** How many replicas a create step places. */
  picks?: number;
  noReuse?: string[];
}

const three = () => [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'c' }), node('n4', { zone: 'c' })];
const running = (name: string, n: string, o: { failedAt?: string } = {}) => replica(name, 'v', n, 'd1', { running: true, ...o });

const cases: Case[] = [
  { name: 'creates every missing replica at once', nodes: three(), replicas: [], volume: volume('v'), step: { kind: 'create' } },
  {
    name: 'reuses a failed replica whose disk is back before building anything',
    nodes: three(),
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3', { failedAt: minutesAgo(1) })],
    volume: volume('v'),
    step: { kind: 'reuse', replica: 'r3' },
  },
  {
    name: 'does not reuse again a replica it reused that failed anew: waits for staleReplicaTimeout instead',
    nodes: three(),
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3', { failedAt: minutesAgo(1) })],
    volume: healthy(volume('v'), ['r1', 'r2']),
    noReuse: ['r3'],
    step: { kind: 'none' },
    retry: true,
  },
  {
    name: 'waits for a failed replica on a down node while staleReplicaTimeout runs, and says when to look again',
    nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'c', ready: false }), node('n4', { zone: 'c' })],
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3', { failedAt: minutesAgo(5) })],
    volume: healthy(volume('v', { staleReplicaTimeout: 30 }), ['r1', 'r2']),
    step: { kind: 'none' },
    retry: true,
  },
  {
    name: 'builds a replacement once the failed replica is stale',
    nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'c', ready: false }), node('n4', { zone: 'c' })],
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3', { failedAt: minutesAgo(31) })],
    volume: volume('v', { staleReplicaTimeout: 30 }),
    step: { kind: 'create', picks: [{ node: 'n4', disk: 'd1', diskPath: '/data/d1' }] },
  },
  {
    name: 'removes the stale replica once it is replaced',
    nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'b' }), node('n3', { zone: 'c', ready: false }), node('n4', { zone: 'c' })],
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3', { failedAt: minutesAgo(31) }), running('r4', 'n4')],
    volume: volume('v', { staleReplicaTimeout: 30 }),
    step: { kind: 'delete', replica: 'r3' },
  },
  {
    name: 'eviction: waits while the replacement is rebuilding',
    nodes: [node('n1', { zone: 'a', evictionRequested: true }), node('n2', { zone: 'b' }), node('n3', { zone: 'c' }), node('n4', { zone: 'c' })],
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3'), running('r4', 'n4')],
    volume: healthy(volume('v'), ['r1', 'r2', 'r3']),
    step: { kind: 'wait' },
  },
  {
    name: 'eviction: removes the evicted replica once enough replicas are healthy',
    nodes: [node('n1', { zone: 'a', evictionRequested: true }), node('n2', { zone: 'b' }), node('n3', { zone: 'c' }), node('n4', { zone: 'c' })],
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3'), running('r4', 'n4')],
    volume: healthy(volume('v'), ['r1', 'r2', 'r3', 'r4']),
    step: { kind: 'delete', replica: 'r1' },
  },
  {
    name: 'eviction: builds only one replacement at a time',
    nodes: [node('n1', { zone: 'a', evictionRequested: true, disks: [{}, {}] }), node('n2', { zone: 'b' }), node('n3', { zone: 'c' }), node('n4', { zone: 'c' }), node('n5', { zone: 'b' })],
    replicas: [running('r1', 'n1'), replica('r2', 'v', 'n1', 'd2', { running: true }), running('r3', 'n3')],
    volume: healthy(volume('v', { replicaSoftAntiAffinity: 'enabled' }), ['r1', 'r2', 'r3']),
    step: { kind: 'create' },
    picks: 1,
  },
  {
    name: 'count decrease removes an unhealthy replica first',
    nodes: three(),
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3'), running('r4', 'n4')],
    volume: healthy(volume('v'), ['r1', 'r2', 'r3']),
    step: { kind: 'delete', replica: 'r4' },
  },
  {
    name: 'count decrease among healthy replicas removes the one whose loss costs least spread',
    nodes: three(),
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3'), running('r4', 'n4')],
    volume: healthy(volume('v'), ['r1', 'r2', 'r3', 'r4']),
    step: { kind: 'delete', replica: 'r4' },
  },
  {
    name: 'least-effort auto-balance stays put when the spread cannot grow',
    nodes: three(),
    replicas: [running('r1', 'n1'), running('r2', 'n2'), running('r3', 'n3')],
    volume: healthy(volume('v'), ['r1', 'r2', 'r3']),
    settings: { 'replica-auto-balance': 'least-effort' },
    step: { kind: 'none' },
  },
  {
    name: 'best-effort auto-balance moves a replica off a node holding two more than another',
    nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'a' }), node('n3', { zone: 'b' })],
    replicas: [running('r1', 'n1'), running('r2', 'n3'), replica('x1', 'w', 'n1'), replica('x2', 'w2', 'n1'), replica('x3', 'w3', 'n3')],
    volume: healthy(volume('v', { numberOfReplicas: 2 }), ['r1', 'r2']),
    settings: { 'replica-auto-balance': 'best-effort' },
    step: { kind: 'evict', replica: 'r1' },
  },
  {
    name: 'best-effort data locality moves a replica to the attach node',
    nodes: three(),
    replicas: [running('r1', 'n1'), running('r2', 'n2')],
    volume: healthy(volume('v', { numberOfReplicas: 2, dataLocality: 'best-effort', nodeID: 'n4' }), ['r1', 'r2']),
    step: { kind: 'evict' },
  },
  {
    name: 'a replica whose node was removed is replaced like an evicted one',
    nodes: [node('n2', { zone: 'b' }), node('n3', { zone: 'c' }), node('n4', { zone: 'c' })],
    replicas: [running('r1', 'gone'), running('r2', 'n2'), running('r3', 'n3')],
    volume: healthy(volume('v'), ['r1', 'r2', 'r3']),
    step: { kind: 'create', picks: [{ node: 'n4', disk: 'd1', diskPath: '/data/d1' }] },
  },
];

describe('decide: one step per pass', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = decide(buildGraph(c.nodes, c.replicas), c.volume, resolveSettings(c.settings ?? {}), NOW, { noReuse: new Set(c.noReuse ?? []) });
      assert.equal(d.step.kind, c.step.kind, JSON.stringify(d.step));
      for (const [k, v] of Object.entries(c.step)) assert.deepEqual((d.step as Record<string, unknown>)[k], v, k);
      if (c.picks !== undefined) assert.equal(d.step.kind === 'create' ? d.step.picks.length : -1, c.picks);
      if (c.retry === true) assert.ok(d.retryAfterMs !== undefined && d.retryAfterMs > 0 && d.retryAfterMs <= 30 * 60_000, String(d.retryAfterMs));
    });
  }
});
