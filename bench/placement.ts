/**
 * `npm run bench -- placement [nodes] [volumes]`: builds a cluster of 5,000 nodes (4 disks each,
 * 3 zones, 60 racks) and places 10,000 three-replica volumes one after the other through the code
 * a controller pass runs (decide, then the Replica objects reserved in the graph), without the
 * store. Prints p50/p99 per volume, the total and the peak memory.
 */
import { API_VERSION, LABEL_RACK, LABEL_ZONE } from '../api/codecs/meta.ts';
import type { Node } from '../api/codecs/node.ts';
import type { Volume } from '../api/codecs/volume.ts';
import { resolveSettings } from '../api/settings.ts';
import { decide } from '../scheduler/decide.ts';
import { buildGraph, replicaInfo } from '../scheduler/graph/build.ts';
import { replicaObjectsFor } from '../scheduler/replica-objects.ts';

const GiB = 1024 ** 3;

/** A Node object of the bench cluster: zone i % zones, rack i % racks (racks spread over zones). */
export function benchNode(i: number, zones: number, racks: number, disks: number): Node {
  const rack = i % racks;
  const zone = rack % zones;
  const diskSpec: Record<string, { path: string; storageReserved: string }> = {};
  const diskStatus: Record<string, unknown> = {};
  for (let d = 0; d < disks; d++) {
    const size = (1024 + ((i * 7 + d * 13) % 5) * 512) * GiB;
    diskSpec[`disk-${d}`] = { path: `/var/lib/shorthorn/disk-${d}`, storageReserved: String(Math.floor(size / 10)) };
    diskStatus[`disk-${d}`] = { storageMaximum: String(size), storageAvailable: String(Math.floor(size * 0.9)), conditions: [{ type: 'Ready', status: 'True' }, { type: 'Schedulable', status: 'True' }] };
  }
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name: `node-${String(i).padStart(5, '0')}`, labels: { [LABEL_ZONE]: `zone-${zone}`, [LABEL_RACK]: `rack-${String(rack).padStart(2, '0')}` } },
    spec: { disks: diskSpec as never },
    status: { conditions: [{ type: 'Ready', status: 'True' }], diskStatus: diskStatus as never },
  } as Node;
}

/** A Volume of the bench: sizes from 1 to 100 GiB. */
export function benchVolume(i: number, replicas = 3): Volume {
  return {
    apiVersion: API_VERSION,
    kind: 'Volume',
    metadata: { name: `vol-${String(i).padStart(6, '0')}` },
    spec: { size: `${1 + ((i * 37) % 100)}Gi`, numberOfReplicas: replicas, dataLocality: 'disabled', accessMode: 'rwo', frontend: 'iscsi' },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Runs the bench; args: [nodes=5000] [volumes=10000]. */
export async function run(args: string[]): Promise<void> {
  const nodeCount = Number(args[0] ?? 5000);
  const volumeCount = Number(args[1] ?? 10000);
  const settings = resolveSettings({});
  const t0 = performance.now();
  const nodes = Array.from({ length: nodeCount }, (_, i) => benchNode(i, 3, 60, 4));
  const graph = buildGraph(nodes, []);
  const built = performance.now() - t0;
  process.stdout.write(`placement bench: ${nodeCount} nodes, ${graph.diskCount} disks, ${graph.zones.length} zones; graph built in ${built.toFixed(0)} ms\n`);
  const times: number[] = [];
  const now = Date.now();
  let seq = 0;
  const hex = () => (seq++).toString(16).padStart(8, '0');
  let failed = 0;
  const start = performance.now();
  for (let i = 0; i < volumeCount; i++) {
    const v = benchVolume(i);
    const a = performance.now();
    // What a controller pass does: decide, then reserve the picks in the graph as Replica objects.
    const d = decide(graph, v, settings, now);
    if (d.step.kind === 'create') for (const r of replicaObjectsFor(v, d.step.picks, hex)) graph.upsertReplica(replicaInfo(r));
    times.push(performance.now() - a);
    if (d.scheduled.status === 'False') failed++;
    if ((i + 1) % 2000 === 0) process.stdout.write(`  ${i + 1}/${volumeCount} volumes placed\n`);
  }
  const total = performance.now() - start;
  times.sort((x, y) => x - y);
  const rss = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    [
      `volumes: ${volumeCount} × 3 replicas, unschedulable: ${failed}`,
      `per volume: p50 ${percentile(times, 50).toFixed(3)} ms, p99 ${percentile(times, 99).toFixed(3)} ms, max ${(times[times.length - 1] ?? 0).toFixed(3)} ms`,
      `total placing: ${(total / 1000).toFixed(2)} s (goal < 10 s); p99 goal < 2 ms`,
      `peak memory (maxRSS): ${rss.toFixed(0)} MiB (goal < 1024 MiB); heap used now ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
    ].join('\n') + '\n',
  );
}
