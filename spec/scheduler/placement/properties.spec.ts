import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { resolveSettings } from '../../../api/settings.ts';
import type { Node } from '../../../api/codecs/node.ts';
import type { Replica } from '../../../api/codecs/replica.ts';
import type { Volume } from '../../../api/codecs/volume.ts';
import { buildGraph } from '../../../scheduler/graph/build.ts';
import type { ClusterGraph } from '../../../scheduler/graph/cluster-graph.ts';
import type { DiskInfo } from '../../../scheduler/graph/types.ts';
import { addToSpread, checkDisk, emptySpread, type SpreadState } from '../../../scheduler/placement/filter.ts';
import { isActiveReplica, placeReplicas, type Pick } from '../../../scheduler/placement/place.ts';
import { volumeRequest, type VolumeRequest } from '../../../scheduler/placement/request.ts';
import { Gi, node, replica, volume } from '../builders.ts';

/** A random small cluster: uneven zones and racks, tags, nearly full disks, evictions, one or two existing replicas. */
const clusterArb = fc
  .record({
    zones: fc.integer({ min: 1, max: 3 }),
    nodes: fc.array(
      fc.record({
        zone: fc.integer({ min: 0, max: 2 }),
        rack: fc.integer({ min: 0, max: 1 }),
        tags: fc.subarray(['edge']),
        evict: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        disks: fc.array(
          fc.record({
            maxGi: fc.constantFrom(20, 50),
            fullness: fc.constantFrom(0, 0.5, 0.7, 0.76),
            tags: fc.subarray(['ssd']),
            evict: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
          }),
          { minLength: 1, maxLength: 2 },
        ),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    sizeGi: fc.constantFrom(5, 10, 15),
    count: fc.integer({ min: 1, max: 3 }),
    existing: fc.array(fc.nat(20), { maxLength: 1 }),
    diskSelector: fc.subarray(['ssd']),
    nodeSelector: fc.subarray(['edge']),
    zoneSoft: fc.constantFrom('enabled', 'disabled'),
    nodeSoft: fc.constantFrom('enabled', 'disabled'),
    diskSoft: fc.constantFrom('enabled', 'disabled'),
  })
  .map((c) => {
    const nodes: Node[] = c.nodes.map((n, i) =>
      node(`n${i}`, {
        zone: `z${n.zone % c.zones}`,
        rack: `r${n.rack}`,
        tags: n.tags,
        evictionRequested: n.evict,
        disks: n.disks.map((d) => ({ maxGi: d.maxGi, availGi: d.maxGi * (1 - d.fullness), tags: d.tags, evictionRequested: d.evict })),
      }),
    );
    const replicas: Replica[] = [];
    c.nodes.forEach((n, i) =>
      n.disks.forEach((d, j) => {
        // Fill scheduled space to match the fullness, with replicas of another volume.
        const fill = Math.floor(d.maxGi * d.fullness);
        if (fill > 0) replicas.push(replica(`fill-${i}-${j}`, 'other', `n${i}`, `d${j + 1}`, { sizeGi: fill }));
      }),
    );
    for (const e of c.existing) {
      const i = e % c.nodes.length;
      replicas.push(replica(`v-existing-${i}`, 'v', `n${i}`, 'd1', { sizeGi: c.sizeGi }));
    }
    const vol: Volume = volume('v', {
      sizeGi: c.sizeGi,
      numberOfReplicas: c.count + c.existing.length,
      diskSelector: c.diskSelector,
      nodeSelector: c.nodeSelector,
      replicaZoneSoftAntiAffinity: c.zoneSoft as 'enabled',
      replicaSoftAntiAffinity: c.nodeSoft as 'enabled',
      replicaDiskSoftAntiAffinity: c.diskSoft as 'enabled',
    });
    return { nodes, replicas, vol, count: c.count };
  });

type Spread = [number, number, number, number];

function spreadVector(s: SpreadState): Spread {
  return [s.zones.size, s.racks.size, s.nodes.size, s.disks.size];
}

function cmp(a: Spread, b: Spread): number {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

function existingSpread(g: ClusterGraph): SpreadState {
  const s = emptySpread();
  for (const r of g.replicasOf('v').filter((x) => isActiveReplica(g, x))) addToSpread(s, g.node(r.nodeID)!, `${r.nodeID}/${r.diskID}`);
  return s;
}

function cloneSpread(s: SpreadState): SpreadState {
  return { zones: new Map(s.zones), racks: new Map(s.racks), nodes: new Map(s.nodes), disks: new Map(s.disks), addedBytes: new Map(s.addedBytes), addedActual: new Map(s.addedActual) };
}

/** Brute force: every sequence of `count` disks that passes the hard rules; the best spread and whether each level can stay distinct. */
function oracle(g: ClusterGraph, req: VolumeRequest, count: number): { best: Spread | undefined; distinct: [boolean, boolean, boolean] } {
  const disks = [...g.disks()];
  const base = existingSpread(g);
  let best: Spread | undefined;
  const distinct: [boolean, boolean, boolean] = [false, false, false];
  const walk = (s: SpreadState, left: number, newOk: [boolean, boolean, boolean]) => {
    if (left === 0) {
      const v = spreadVector(s);
      if (best === undefined || cmp(v, best) > 0) best = v;
      newOk.forEach((ok, i) => (distinct[i] ||= ok));
      return;
    }
    for (const d of disks) {
      if (checkDisk(req, s, d, undefined) !== undefined) continue;
      const ok: [boolean, boolean, boolean] = [newOk[0] && !s.zones.has(d.node.zone), newOk[1] && !s.nodes.has(d.node.name), newOk[2] && !s.disks.has(d.key)];
      const next = cloneSpread(s);
      addToSpread(next, d.node, d.key, { nominal: req.sizeBytes, actual: req.actualSizeBytes });
      walk(next, left - 1, ok);
    }
  };
  walk(base, count, [true, true, true]);
  return { best, distinct };
}

function applyPicks(g: ClusterGraph, req: VolumeRequest, picks: readonly Pick[]): SpreadState {
  const s = existingSpread(g);
  for (const p of picks) {
    const d = g.disk(p.node, p.disk) as DiskInfo;
    assert.equal(checkDisk(req, s, d, undefined), undefined, `pick ${p.node}/${p.disk} breaks a hard rule`);
    addToSpread(s, d.node, d.key, { nominal: req.sizeBytes, actual: req.actualSizeBytes });
  }
  return s;
}

const settings = resolveSettings({});

describe('placement properties over random clusters', () => {
  it('never breaks a hard rule or overcommits, is as spread as the brute-force best, and breaks a soft rule only when it must', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(clusterArb, ({ nodes, replicas, vol, count }) => {
        const g = buildGraph(nodes, replicas);
        const req = volumeRequest(vol, settings);
        const r = placeReplicas(g, vol, settings, count);
        const o = oracle(g, req, count);
        if (o.best === undefined) {
          assert.ok(E.isLeft(r), 'placed although no placement exists');
          return;
        }
        assert.ok(E.isRight(r), `unschedulable although a placement exists: ${E.isLeft(r) ? r.left.message : ''}`);
        const s = applyPicks(g, req, r.right.picks);
        for (const p of r.right.picks) {
          const d = g.disk(p.node, p.disk) as DiskInfo;
          const limit = (d.maximumBytes - d.reservedBytes) * req.overProvisioning;
          assert.ok(d.scheduledBytes + (s.addedBytes.get(d.key) ?? 0) <= limit, `disk ${d.key} overcommitted`);
        }
        assert.deepEqual(spreadVector(s), o.best, 'spread is not the best possible');
        const base = existingSpread(g);
        const news = r.right.picks;
        const zonesDistinct = news.every((p, i) => !base.zones.has(g.node(p.node)!.zone) && news.findIndex((q) => g.node(q.node)!.zone === g.node(p.node)!.zone) === i);
        const nodesDistinct = news.every((p, i) => !base.nodes.has(p.node) && news.findIndex((q) => q.node === p.node) === i);
        if (o.distinct[0]) assert.ok(zonesDistinct, 'soft zone anti-affinity broken although a placement keeps it');
        if (o.distinct[1]) assert.ok(nodesDistinct, 'soft node anti-affinity broken although a placement keeps it');
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('gives the same output for the same input, whatever the order of the objects', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(clusterArb, ({ nodes, replicas, vol, count }) => {
        const a = placeReplicas(buildGraph(nodes, replicas), vol, settings, count);
        const b = placeReplicas(buildGraph([...nodes].reverse(), [...replicas].reverse()), vol, settings, count);
        assert.deepEqual(JSON.stringify(a), JSON.stringify(b));
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('explains an unschedulable volume with reasons that add up to the disks considered', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(clusterArb, ({ nodes, replicas, vol, count }) => {
        const g = buildGraph(nodes, replicas);
        const r = placeReplicas(g, vol, settings, count + 2);
        if (E.isRight(r)) return;
        const sum = [...r.left.reasons.values()].reduce((x, y) => x + y, 0);
        assert.equal(r.left.considered, g.diskCount);
        assert.equal(sum, g.diskCount);
        assert.match(r.left.message, new RegExp(`0/${g.diskCount} disks are available`));
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('keeps free space from going below the bytes it scheduled (sanity of the figures)', () => {
    const g = buildGraph([node('n1', { disks: [{ maxGi: 10 }] })], []);
    const r = placeReplicas(g, volume('v', { sizeGi: 10, numberOfReplicas: 1 }), settings, 1);
    assert.ok(E.isRight(r));
    assert.equal(g.disk('n1', 'd1')?.maximumBytes, 10 * Gi);
  });
});
