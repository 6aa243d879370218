import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildGraph, nodeFacts, replicaInfo } from '../../../scheduler/graph/build.ts';
import type { ClusterGraph } from '../../../scheduler/graph/cluster-graph.ts';
import { Gi, node, replica } from '../builders.ts';

/** Everything placement reads, as plain data. */
function snapshot(g: ClusterGraph): unknown {
  return {
    zones: g.zones.map((z) => ({ name: z.name, min: z.minUsage, racks: z.racks.map((r) => ({ key: r.key, min: r.minUsage, nodes: r.nodes.map((n) => ({ name: n.name, min: n.minUsage, disks: n.disks.map((d) => [d.key, d.scheduledBytes, d.usage, [...d.replicas.keys()].sort()]) })) })) })),
    disks: g.diskCount,
    order: g.graph.order,
    size: g.graph.size,
  };
}

describe('ClusterGraph', () => {
  it('reads topology, figures and flags from Node objects', () => {
    const g = buildGraph([node('n1', { zone: 'a', rack: 'r1', disks: [{ maxGi: 100, reservedGi: 20, availGi: 70, tags: ['ssd'] }] }), node('n2')], [replica('x', 'v', 'n1', 'd1', { sizeGi: 40 })]);
    const d = g.disk('n1', 'd1');
    assert.equal(d?.maximumBytes, 100 * Gi);
    assert.equal(d?.reservedBytes, 20 * Gi);
    assert.equal(d?.availableBytes, 70 * Gi);
    assert.equal(d?.scheduledBytes, 40 * Gi);
    assert.equal(d?.usage, 0.5);
    assert.deepEqual(d?.tags, ['ssd']);
    assert.equal(g.node('n2')?.zone, '', 'a node without a zone is in the shared zone');
    assert.equal(g.node('n2')?.rack, 'node:n2', 'a node without a rack is a rack of its own');
    assert.deepEqual(g.zones.map((z) => z.name), ['', 'a']);
    assert.ok(g.graph.hasEdge('zone:a', 'rack:a/r1') && g.graph.hasEdge('node:n1', 'disk:n1/d1') && g.graph.hasEdge('disk:n1/d1', 'replica:x'));
  });

  it('after any sequence of incremental updates equals a graph rebuilt from the final objects', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('node' as const), i: fc.nat(4), zone: fc.constantFrom('a', 'b'), rack: fc.constantFrom('r1', 'r2'), disks: fc.integer({ min: 1, max: 2 }), ready: fc.boolean() }),
      fc.record({ t: fc.constant('rmnode' as const), i: fc.nat(4) }),
      fc.record({ t: fc.constant('rep' as const), i: fc.nat(6), n: fc.nat(4), sizeGi: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ t: fc.constant('rmrep' as const), i: fc.nat(6) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const nodes = new Map<string, ReturnType<typeof node>>();
        const reps = new Map<string, ReturnType<typeof replica>>();
        const g = buildGraph([], []);
        for (const o of ops) {
          if (o.t === 'node') {
            const n = node(`n${o.i}`, { zone: o.zone, rack: o.rack, ready: o.ready, disks: Array.from({ length: o.disks }, () => ({})) });
            nodes.set(`n${o.i}`, n);
            g.upsertNode(nodeFacts(n));
          } else if (o.t === 'rmnode') {
            nodes.delete(`n${o.i}`);
            g.removeNode(`n${o.i}`);
          } else if (o.t === 'rep') {
            const r = replica(`r${o.i}`, 'v', `n${o.n}`, 'd1', { sizeGi: o.sizeGi });
            reps.set(`r${o.i}`, r);
            g.upsertReplica(replicaInfo(r));
          } else {
            reps.delete(`r${o.i}`);
            g.removeReplica(`r${o.i}`);
          }
        }
        const fresh = buildGraph([...nodes.values()], [...reps.values()]);
        assert.deepEqual(snapshot(g), snapshot(fresh));
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('attaches a replica that names its disk by UUID, whether the node is known before or after', () => {
    const n = node('n1', { disks: [{ maxGi: 100 }] });
    const withUuid = { ...n, status: { ...n.status, diskStatus: { d1: { ...n.status!.diskStatus!['d1'], diskUUID: 'a1b2' } } } };
    const r = replica('x', 'v', 'n1', 'a1b2', { sizeGi: 10 });
    for (const g of [buildGraph([withUuid], [r]), (() => { const g = buildGraph([], [r]); g.upsertNode(nodeFacts(withUuid)); return g; })()]) {
      assert.equal(g.disk('n1', 'd1')?.scheduledBytes, 10 * Gi);
      assert.equal(g.replica('x')?.diskID, 'd1');
      g.removeReplica('x');
      assert.equal(g.disk('n1', 'd1')?.scheduledBytes, 0);
    }
  });
});

describe('node readiness in the graph', () => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['Ready and its agent running', { agentState: 'running' }, true],
    ['Ready, agent state not yet known', {}, true],
    ['Ready by its last report but its agent stopped sending heartbeats', { agentState: 'unreachable' }, false],
  ];
  for (const [name, extra, ready] of cases) {
    it(`${name}: ${ready ? 'ready' : 'not ready'}`, () => {
      const n = node('n1');
      const withState = { ...n, status: { ...(n.status ?? {}), ...extra } } as typeof n;
      assert.equal(nodeFacts(withState).ready, ready);
    });
  }
});
