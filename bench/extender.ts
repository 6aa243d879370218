/**
 * `npm run bench -- extender [nodes=5000] [volumes=20000] [requests=400] [form]`: a 5,000-node graph
 * with 20,000 three-replica volumes, the extender app served on 127.0.0.1, and pods with 1–3
 * volumes sent through POST /filter and /prioritize end to end over HTTP (keep-alive, as
 * kube-scheduler does), in both request forms. Prints p50/p99 per verb and form.
 */
import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { quantityBytes } from '../api/quantity.ts';
import type { Volume } from '../api/codecs/volume.ts';
import { resolveSettings } from '../api/settings.ts';
import { createApp } from '../scheduler/extender/app.ts';
import { expressServerClasses } from '../api/http/express-classes.ts';
import { CSI_DRIVER, MemoryKubeView } from '../scheduler/extender/resolver.ts';
import { buildGraph } from '../scheduler/graph/build.ts';
import { placeReplicas } from '../scheduler/placement/place.ts';
import { benchNode, benchVolume } from './placement.ts';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/**
 * POSTs a body given in parts (written one after the other, as one request); resolves when the last
 * byte of the answer is in, with the answer's chunks as they came.
 */
function post(agent: Agent, port: number, path: string, body: readonly Buffer[]): Promise<{ status: number; chunks: Buffer[] }> {
  return new Promise((resolve, reject) => {
    let length = 0;
    for (const b of body) length += b.length;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, chunks }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const b of body.slice(0, -1)) req.write(b);
    req.end(body[body.length - 1]);
  });
}

/** CPU time of the calling thread in ms (NaN where /proc/thread-self is missing). */
function threadCpuMs(): number {
  try {
    // Fields after the command name: state is 3rd, utime 14th, stime 15th (proc(5)).
    const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Builds the cluster and serves the extender on 127.0.0.1 (in a worker thread, so the client's JSON work does not share its event loop). */
async function serve(nodeCount: number, volumeCount: number): Promise<void> {
  const settings = resolveSettings({});
  const t0 = performance.now();
  const nodes = Array.from({ length: nodeCount }, (_, i) => benchNode(i, 3, 60, 4));
  const graph = buildGraph(nodes, []);
  const vols = new Map<string, Volume>();
  const kube = new MemoryKubeView();
  for (let i = 0; i < volumeCount; i++) {
    const v = benchVolume(i);
    const r = placeReplicas(graph, v, settings, 3, { existing: [] });
    const picks = E.isRight(r) ? r.right.picks : r.left.placed;
    const modes: Record<string, string> = {};
    picks.forEach((p, k) => {
      const name = `${v.metadata.name}-r${k}`;
      modes[name] = 'RW';
      graph.upsertReplica({ name, volumeName: v.metadata.name, nodeID: p.node, diskID: p.disk, sizeBytes: quantityBytes(v.spec.size), failed: false, failedAtMs: NaN, evictionRequested: false, running: true, deleting: false });
    });
    vols.set(v.metadata.name, { ...v, status: { replicaModes: modes } });
    kube.addClaim({ namespace: 'bench', name: `pvc-${i}`, volumeName: `pv-${i}` });
    kube.volumes.set(`pv-${i}`, { name: `pv-${i}`, csiDriver: CSI_DRIVER, volumeHandle: v.metadata.name });
  }
  const app = createApp({ graph, volume: (n) => vols.get(n), settings: () => settings, kube, maxBodyBytes: 64 * 1024 * 1024 });
  // Server-side time per request (arrival to last byte written), by path: separates the extender's work from the loopback and the client.
  const serverTimes = new Map<string, number[]>();
  // As `shorthorn placement` serves it (scheduler/service.ts): requests born with express's prototypes.
  const server = createServer({ ...expressServerClasses(app) }, (req, res) => {
    const a = performance.now();
    res.on('finish', () => {
      const k = req.url ?? '';
      let list = serverTimes.get(k);
      if (list === undefined) serverTimes.set(k, (list = []));
      list.push(performance.now() - a);
    });
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  parentPort?.postMessage({ port: (server.address() as AddressInfo).port, disks: graph.diskCount, seconds: (performance.now() - t0) / 1000 });
  // Event-loop busy time of the server thread between two reports, and its CPU time (Linux: utime + stime
  // of this thread, in 10 ms ticks): its work per request, whatever the wall clock and the load say.
  let elu = performance.eventLoopUtilization();
  let cpu = threadCpuMs();
  parentPort?.on('message', (m: string) => {
    if (m === 'times') {
      const d = performance.eventLoopUtilization(elu);
      elu = performance.eventLoopUtilization();
      const c = threadCpuMs();
      parentPort?.postMessage({ times: Object.fromEntries(serverTimes), activeMs: d.active, cpuMs: c - cpu });
      cpu = c;
      serverTimes.clear();
      return;
    }
    server.closeAllConnections();
    server.close();
    parentPort?.postMessage({ maxRssMiB: process.resourceUsage().maxRSS / 1024 });
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'extender-server') {
  const w = workerData as { nodes: number; volumes: number };
  await serve(w.nodes, w.volumes);
}

/** Runs the bench; args: [nodes=5000] [volumes=20000] [requests=400] [NodeNames|Nodes: one form only]. */
export async function run(args: string[]): Promise<void> {
  const nodeCount = Number(args[0] ?? 5000);
  const volumeCount = Number(args[1] ?? 20000);
  const requests = Number(args[2] ?? 400);
  // The client's fixtures first, so that their garbage is collected before any call is measured.
  const nodes = Array.from({ length: nodeCount }, (_, i) => benchNode(i, 3, 60, 4));
  const names = nodes.map((n) => n.metadata.name);
  // The NodeList form carries each node as the scheduler would (trimmed to labels and conditions here; real nodes are larger).
  const nodeList = { metadata: {}, items: nodes.map((n) => ({ metadata: { name: n.metadata.name, labels: n.metadata.labels }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })) };
  // A worker does not inherit the tsx loader: register it first, then load this module.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { role: 'extender-server', nodes: nodeCount, volumes: volumeCount } });
  const ready = await new Promise<{ port: number; disks: number; seconds: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const port = ready.port;
  process.stdout.write(`extender bench: ${nodeCount} nodes, ${ready.disks} disks, ${volumeCount} volumes placed in ${ready.seconds.toFixed(1)} s; server in a worker thread\n`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const pod = (i: number) => {
    const k = 1 + (i % 3);
    const volumes = Array.from({ length: k }, (_, j) => ({ name: `v${j}`, persistentVolumeClaim: { claimName: `pvc-${(i * 7919 + j * 104729) % volumeCount}` } }));
    return { metadata: { name: `pod-${i}`, namespace: 'bench', uid: `u-${i}` }, spec: { volumes } };
  };
  // Each body is JSON.stringify({Pod, NodeNames, Nodes}) (or {Pod, Nodes, NodeNames}) byte for byte, sent
  // as two parts with the node part encoded once: a client that made 64 KiB (or 850 KiB) per call
  // would collect its own garbage (external memory pressure included) inside the calls it measures.
  const namesPart = Buffer.from(`,"NodeNames":${JSON.stringify(names)},"Nodes":null}`);
  const nodesPart = Buffer.from(`,"Nodes":${JSON.stringify(nodeList)},"NodeNames":null}`);
  const forms: { name: string; body: (i: number) => Buffer[]; count: number }[] = [
    { name: 'NodeNames', body: (i) => [Buffer.from(`{"Pod":${JSON.stringify(pod(i))}`), namesPart], count: requests },
    { name: 'Nodes', body: (i) => [Buffer.from(`{"Pod":${JSON.stringify(pod(i))}`), nodesPart], count: Math.max(20, Math.floor(requests / 4)) },
  ];
  const only = args[3];
  for (const form of forms.filter((f) => only === undefined || f.name === only)) {
    for (const verb of ['filter', 'prioritize']) {
      const times: number[] = [];
      const warm = 20;
      // The client keeps its own work out of the measured calls: each body is encoded before its call
      // (kube-scheduler too marshals before it sends), and each answer decoded and checked after it.
      // Answers are not kept: 400 of them held (external memory) made the client's V8 collect, a
      // mark-compact included, inside later calls.
      for (let i = 0; i < form.count + warm; i++) {
        const body = form.body(i);
        const a = performance.now();
        const res = await post(agent, port, `/${verb}`, body);
        const ms = performance.now() - a;
        const text = Buffer.concat(res.chunks).toString('utf8');
        if (res.status !== 200) throw new Error(`${verb} answered ${res.status}: ${text.slice(0, 200)}`);
        JSON.parse(text);
        if (i >= warm) times.push(ms);
      }
      times.sort((x, y) => x - y);
      worker.postMessage('times');
      const st = await new Promise<{ times: Record<string, number[]>; activeMs: number; cpuMs: number }>((resolve) => worker.once('message', resolve));
      const server = (st.times[`/${verb}`] ?? []).slice(warm).sort((x, y) => x - y);
      const size = form.body(0).reduce((n, b) => n + b.length, 0);
      const busy = st.activeMs / (form.count + warm);
      const cpu = st.cpuMs / (form.count + warm);
      process.stdout.write(`${form.name.padEnd(9)} ${verb.padEnd(10)} requests ${String(form.count).padStart(4)}, body ${(size / 1024).toFixed(0)} KiB: end to end p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms; in the server p50 ${percentile(server, 50).toFixed(2)} ms, p99 ${percentile(server, 99).toFixed(2)} ms, busy ${busy.toFixed(2)} ms, CPU ${cpu.toFixed(2)} ms per request\n`);
    }
  }
  agent.destroy();
  worker.postMessage('stop');
  const mem = await new Promise<{ maxRssMiB: number }>((resolve) => worker.once('message', resolve));
  await worker.terminate();
  process.stdout.write(`goal: p99 < 5 ms with NodeNames; peak memory (maxRSS, whole process) ${mem.maxRssMiB.toFixed(0)} MiB\n`);
}
