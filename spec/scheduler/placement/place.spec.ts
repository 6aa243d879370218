import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import { resolveSettings } from '../../../api/settings.ts';
import type { Node } from '../../../api/codecs/node.ts';
import type { Replica } from '../../../api/codecs/replica.ts';
import type { Volume } from '../../../api/codecs/volume.ts';
import { buildGraph } from '../../../scheduler/graph/build.ts';
import { placeReplicas } from '../../../scheduler/placement/place.ts';
import { node, replica, volume } from '../builders.ts';

interface Case {
  name: string;
  nodes: Node[];
  replicas?: Replica[];
  volume: Volume;
  count: number;
  settings?: Record<string, string>;
  attachNode?: string;
  /** Expected picks as `node/disk`, in order; or a check on them. */
  picks?: string[] | ((picks: string[]) => void);
  /** Expected failure: reason counts and a fragment of the message. */
  unschedulable?: { reasons: Record<string, number>; message?: string; placed?: number };
}

const zoneNodes = (zones: string[], perZone = 1) => zones.flatMap((z) => Array.from({ length: perZone }, (_, i) => node(`${z}-n${i + 1}`, { zone: z })));

const cases: Case[] = [
  { name: 'spreads three replicas over three zones', nodes: zoneNodes(['a', 'b', 'c'], 2), volume: volume('v'), count: 3, picks: (p) => assert.equal(new Set(p.map((x) => x.split('-')[0])).size, 3) },
  {
    name: 'soft zone anti-affinity: two zones, three replicas land in both zones on three nodes',
    nodes: zoneNodes(['a', 'b'], 2),
    volume: volume('v'),
    count: 3,
    picks: (p) => {
      assert.equal(new Set(p.map((x) => x.split('-')[0])).size, 2);
      assert.equal(new Set(p.map((x) => x.split('/')[0])).size, 3);
    },
  },
  {
    name: 'hard zone anti-affinity refuses the third replica and says the zone holds one',
    nodes: zoneNodes(['a', 'b'], 2),
    volume: volume('v', { replicaZoneSoftAntiAffinity: 'disabled' }),
    count: 3,
    unschedulable: { reasons: { ZoneAntiAffinity: 4 }, message: 'replica 3 of 3: 0/4 disks are available: 4 zone anti-affinity (zone already holds a replica)', placed: 2 },
  },
  {
    name: 'hard node anti-affinity (the default) refuses a second replica on the only node',
    nodes: [node('n1', { disks: [{}, {}] })],
    volume: volume('v'),
    count: 2,
    unschedulable: { reasons: { NodeAntiAffinity: 2 }, message: '0/2 disks are available: 2 node anti-affinity (node already holds a replica)', placed: 1 },
  },
  {
    name: 'soft node anti-affinity puts two replicas on one node, on different disks',
    nodes: [node('n1', { disks: [{}, {}] })],
    volume: volume('v', { replicaSoftAntiAffinity: 'enabled' }),
    count: 2,
    picks: ['n1/d1', 'n1/d2'],
  },
  {
    name: 'hard disk anti-affinity refuses a second replica on the only disk',
    nodes: [node('n1')],
    volume: volume('v', { replicaSoftAntiAffinity: 'enabled', replicaDiskSoftAntiAffinity: 'disabled' }),
    count: 2,
    unschedulable: { reasons: { DiskAntiAffinity: 1 }, message: 'disk anti-affinity (disk already holds a replica)', placed: 1 },
  },
  {
    name: 'soft disk anti-affinity allows two replicas on one disk when nothing else fits',
    nodes: [node('n1')],
    volume: volume('v', { replicaSoftAntiAffinity: 'enabled' }),
    count: 2,
    picks: ['n1/d1', 'n1/d1'],
  },
  {
    name: 'disk tags: only disks carrying every selected tag',
    nodes: [node('n1', { disks: [{ tags: ['ssd'] }] }), node('n2', { disks: [{ tags: ['hdd'] }] }), node('n3', { disks: [{ tags: ['ssd', 'fast'] }] })],
    volume: volume('v', { diskSelector: ['ssd'], numberOfReplicas: 3 }),
    count: 3,
    unschedulable: { reasons: { DiskTagsNotFulfilled: 1, NodeAntiAffinity: 2 }, message: '1 tags not fulfilled (disk lacks "ssd")', placed: 2 },
  },
  {
    name: 'node tags: only nodes carrying every selected tag',
    nodes: [node('n1', { tags: ['edge'] }), node('n2')],
    volume: volume('v', { nodeSelector: ['edge'] }),
    count: 1,
    picks: ['n1/d1'],
  },
  {
    name: 'over-provisioning: size + scheduled must fit (maximum − reserved) × 100%',
    nodes: [node('n1', { disks: [{ maxGi: 20, reservedGi: 5 }] })],
    replicas: [replica('other', 'w', 'n1', 'd1', { sizeGi: 10 })],
    volume: volume('v', { sizeGi: 10 }),
    count: 1,
    unschedulable: { reasons: { InsufficientSchedulableStorage: 1 }, message: '0/1 disks are available: 1 insufficient storage (need 10Gi, 5Gi schedulable under 100% over-provisioning)' },
  },
  {
    name: 'over-provisioning 200% lets the same disk take it',
    nodes: [node('n1', { disks: [{ maxGi: 20, reservedGi: 5 }] })],
    replicas: [replica('other', 'w', 'n1', 'd1', { sizeGi: 10 })],
    volume: volume('v', { sizeGi: 10 }),
    settings: { 'storage-over-provisioning-percentage': '200' },
    count: 1,
    picks: ['n1/d1'],
  },
  {
    name: 'minimal available: a disk with 25% or less free takes nothing',
    nodes: [node('n1', { disks: [{ maxGi: 100, availGi: 25 }] }), node('n2', { disks: [{ maxGi: 100, availGi: 26 }] })],
    volume: volume('v'),
    count: 2,
    unschedulable: { reasons: { InsufficientAvailableStorage: 1, NodeAntiAffinity: 1 }, message: '1 insufficient storage (need 10Gi, 25Gi free under 25% minimal available)', placed: 1 },
  },
  {
    name: 'flags: not ready, scheduling disabled and eviction requested each refuse with their own reason',
    nodes: [
      node('n1', { ready: false }),
      node('n2', { allowScheduling: false }),
      node('n3', { evictionRequested: true }),
      node('n4', { disks: [{ ready: false }] }),
      node('n5', { disks: [{ allowScheduling: false }] }),
      node('n6', { disks: [{ evictionRequested: true }] }),
    ],
    volume: volume('v'),
    count: 1,
    unschedulable: {
      reasons: { NodeNotReady: 1, NodeUnschedulable: 1, NodeEvictionRequested: 1, DiskNotReady: 1, DiskUnschedulable: 1, DiskEvictionRequested: 1 },
      message: '0/6 disks are available: 1 disk eviction requested, 1 disk not ready, 1 disk scheduling disabled, 1 node eviction requested, 1 node not ready, 1 node scheduling disabled',
    },
  },
  {
    name: 'best-effort locality puts one replica on the attach node first',
    nodes: zoneNodes(['a', 'b', 'c'], 2),
    volume: volume('v', { dataLocality: 'best-effort' }),
    count: 3,
    attachNode: 'b-n2',
    picks: (p) => assert.equal(p[0], 'b-n2/d1'),
  },
  {
    name: 'strict-local: the only replica goes on the attach node',
    nodes: zoneNodes(['a', 'b'], 2),
    volume: volume('v', { dataLocality: 'strict-local', numberOfReplicas: 1 }),
    count: 1,
    attachNode: 'a-n2',
    picks: ['a-n2/d1'],
  },
  {
    name: 'strict-local: a full attach node refuses and every other disk counts as not the attach node',
    nodes: [node('n1', { disks: [{ maxGi: 5 }] }), node('n2'), node('n3')],
    volume: volume('v', { dataLocality: 'strict-local', numberOfReplicas: 1 }),
    count: 1,
    attachNode: 'n1',
    unschedulable: { reasons: { StrictLocalNotAttachNode: 2, InsufficientSchedulableStorage: 1 }, message: '2 strict-local (not the attach node n1)' },
  },
  {
    name: 'racks: in one zone, two replicas go to two racks',
    nodes: [node('n1', { zone: 'a', rack: 'r1' }), node('n2', { zone: 'a', rack: 'r1' }), node('n3', { zone: 'a', rack: 'r2' })],
    volume: volume('v'),
    count: 2,
    picks: (p) => assert.ok(p.includes('n3/d1'), `one replica on rack r2: ${p.join(', ')}`),
  },
  {
    name: 'existing replicas count: the new one avoids their zones',
    nodes: zoneNodes(['a', 'b', 'c']),
    replicas: [replica('r1', 'v', 'a-n1'), replica('r2', 'v', 'b-n1')],
    volume: volume('v'),
    count: 1,
    picks: ['c-n1/d1'],
  },
  {
    name: 'balance: the emptiest disk wins among equals in spread',
    nodes: [node('n1', { disks: [{ maxGi: 100 }] }), node('n2', { disks: [{ maxGi: 100 }] })],
    replicas: [replica('x', 'w', 'n1', 'd1', { sizeGi: 30 })],
    volume: volume('v'),
    count: 1,
    picks: ['n2/d1'],
  },
  {
    name: 'the kube-scheduler style message of the issue',
    nodes: [
      node('n1', { disks: [{ tags: ['ssd'] }, { tags: ['ssd'] }] }),
      node('n2', { disks: [{ tags: ['ssd'] }, { tags: ['ssd'] }] }),
      node('n3', { disks: [{ tags: ['ssd'] }, { tags: ['ssd'] }] }),
      node('n4', { disks: [{}, {}] }),
      node('n5', { disks: [{ tags: ['ssd'], availGi: 2.15 }, { tags: ['ssd'], availGi: 2.15 }] }),
      node('n6', { disks: [{ tags: ['ssd'], availGi: 2.15 }, { tags: ['ssd'], availGi: 1 }] }),
    ],
    replicas: [replica('r1', 'v', 'n1'), replica('r2', 'v', 'n2'), replica('r3', 'v', 'n3')],
    volume: volume('v', { diskSelector: ['ssd'], numberOfReplicas: 4 }),
    count: 1,
    unschedulable: {
      reasons: { DiskTagsNotFulfilled: 2, NodeAntiAffinity: 6, InsufficientAvailableStorage: 4 },
      message: 'replica 4 of 4: 0/12 disks are available: 4 insufficient storage (need 10Gi, 2.1Gi free under 25% minimal available), 6 node anti-affinity (node already holds a replica), 2 tags not fulfilled (disk lacks "ssd")',
    },
  },
];

describe('placeReplicas: one rule at a time', () => {
  for (const c of cases) {
    it(c.name, () => {
      const graph = buildGraph(c.nodes, c.replicas ?? []);
      const r = placeReplicas(graph, c.volume, resolveSettings(c.settings ?? {}), c.count, c.attachNode !== undefined ? { attachNode: c.attachNode } : {});
      if (c.unschedulable !== undefined) {
        assert.ok(E.isLeft(r), `expected unschedulable, got ${JSON.stringify(E.isRight(r) ? r.right.picks : null)}`);
        assert.deepEqual(Object.fromEntries(r.left.reasons), c.unschedulable.reasons);
        if (c.unschedulable.message !== undefined) assert.ok(r.left.message.includes(c.unschedulable.message), r.left.message);
        if (c.unschedulable.placed !== undefined) assert.equal(r.left.placed.length, c.unschedulable.placed);
        const sum = [...r.left.reasons.values()].reduce((a, b) => a + b, 0);
        assert.equal(sum, r.left.considered);
        return;
      }
      assert.ok(E.isRight(r), E.isLeft(r) ? r.left.message : '');
      const picks = r.right.picks.map((p) => `${p.node}/${p.disk}`);
      if (typeof c.picks === 'function') c.picks(picks);
      else assert.deepEqual(picks, c.picks);
    });
  }
});
