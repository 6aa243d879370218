/**
 * `npm run bench -- webhooks [--rate N] [--seconds S] [--sockets N]`: admission latency at a steady request rate
 * over HTTPS on loopback. Starts the real server (`shorthorn webhooks --self-signed` in a temp dir,
 * its own process), drives it open-loop with a keep-alive https.Agent, and prints p50/p90/p99/max.
 * Latency counts from each request's scheduled time, so a stalled server cannot hide its backlog
 * (no coordinated omission). The anchor is /healthz at the same rate: TLS + HTTP + express alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Shot {
  readonly path: string;
  readonly body?: string;
}

interface Result {
  /** From each request's scheduled time (counts the backlog when anything stalls). */
  readonly latenciesMs: number[];
  /** From the moment the request was actually sent (the service time alone). */
  readonly serviceMs: number[];
  readonly errors: number;
  readonly elapsedS: number;
}

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

function review(kind: string, operation: string, object: unknown, oldObject: unknown): string {
  const plural = `${kind.toLowerCase()}s`;
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'bench', kind: { group: 'shorthorn.io', version: 'v1beta1', kind }, resource: { group: 'shorthorn.io', version: 'v1beta1', resource: plural }, name: 'v1', namespace: 'shorthorn-system', operation, object, oldObject, dryRun: false },
  });
}

/** The admission mix: Volume create (mutate and validate), a refused shrink, a Node update. */
function admissionShots(): Shot[] {
  const vol = (spec: Record<string, unknown>) => ({ apiVersion: 'shorthorn.io/v1beta1', kind: 'Volume', metadata: { name: 'v1', namespace: 'shorthorn-system' }, spec });
  const full = { size: '10Gi', numberOfReplicas: 3, dataLocality: 'disabled', accessMode: 'rwo', frontend: 'iscsi', staleReplicaTimeout: 30, nodeSelector: [], diskSelector: [], replicaSoftAntiAffinity: 'ignored', replicaZoneSoftAntiAffinity: 'ignored', replicaDiskSoftAntiAffinity: 'ignored', replicaAutoBalance: 'ignored' };
  const node = (disks: Record<string, unknown>) => ({ apiVersion: 'shorthorn.io/v1beta1', kind: 'Node', metadata: { name: 'n1', namespace: 'shorthorn-system' }, spec: { allowScheduling: true, evictionRequested: false, tags: [], disks } });
  return [
    { path: '/mutate', body: review('Volume', 'CREATE', vol({ size: '10G' }), null) },
    { path: '/validate', body: review('Volume', 'CREATE', vol(full), null) },
    { path: '/validate', body: review('Volume', 'UPDATE', vol({ ...full, size: '5Gi' }), vol(full)) },
    { path: '/mutate', body: review('Node', 'UPDATE', node({ '/mnt/b': {}, d1: { path: '/mnt/a' } }), node({ d1: { path: '/mnt/a' } })) },
    { path: '/validate', body: review('Node', 'UPDATE', node({ d1: { path: '/mnt/a', storageReserved: '1Gi' } }), node({ d1: { path: '/mnt/a' } })) },
  ];
}

function send(agent: Agent, port: number, ca: string, shot: Shot): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: shot.path, method: shot.body === undefined ? 'GET' : 'POST', agent, ca, servername: 'localhost', headers: shot.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(shot.body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.end(shot.body);
  });
}

/** Sends `rate` requests a second for `seconds`, open loop; latency from each scheduled time. */
async function drive(agent: Agent, port: number, ca: string, shots: Shot[], rate: number, seconds: number): Promise<Result> {
  const total = Math.round(rate * seconds);
  const latenciesMs: number[] = [];
  const serviceMs: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const now = performance.now();
    while (i < total && t0 + (i * 1000) / rate <= now) {
      const scheduled = t0 + (i * 1000) / rate;
      const shot = shots[i % shots.length] as Shot;
      const sent = performance.now();
      pending.push(send(agent, port, ca, shot).then((ok) => {
        const done = performance.now();
        latenciesMs.push(done - scheduled);
        serviceMs.push(done - sent);
        if (!ok) errors++;
      }));
      i++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  const elapsedS = (performance.now() - t0) / 1000;
  return { latenciesMs, serviceMs, errors, elapsedS };
}

/** The server's own view: its latency histogram, as the share of admission requests under each bound. */
async function serverHistogram(port: number, ca: string): Promise<string> {
  const agent = new Agent({ keepAlive: false });
  const text = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics', agent, ca, servername: 'localhost' }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    }).on('error', reject).end();
  });
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^shorthorn_webhook_request_duration_seconds_bucket\{le="([^"]+)",path="[^"]+"\} (\d+)$/gm)) buckets.set(m[1] as string, (buckets.get(m[1] as string) ?? 0) + Number(m[2]));
  const all = buckets.get('+Inf') ?? 0;
  const share = (le: string) => `${(((buckets.get(le) ?? 0) / Math.max(1, all)) * 100).toFixed(2)}% ≤ ${Number(le) * 1000} ms`;
  return `server-side (body parsed → answer, all ${all} admission requests incl. warm-up): ${['0.0005', '0.001', '0.0025', '0.005'].map(share).join(', ')}`;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(name: string, r: Result): { p50: number; p99: number } {
  const s = [...r.latenciesMs].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(2).padStart(7);
  const p50 = pct(s, 50);
  const p99 = pct(s, 99);
  const sv = [...r.serviceMs].sort((a, b) => a - b);
  console.log(`${name.padEnd(22)} n=${s.length} rate=${(s.length / r.elapsedS).toFixed(0)}/s errors=${r.errors}  p50=${f(p50)} ms  p90=${f(pct(s, 90))} ms  p99=${f(p99)} ms  p99.9=${f(pct(s, 99.9))} ms  max=${f(s[s.length - 1] ?? NaN)} ms`);
  console.log(`${''.padEnd(22)} service time only (from the actual send): p50=${f(pct(sv, 50))} ms  p99=${f(pct(sv, 99))} ms`);
  return { p50, p99 };
}

/** CPU time (user + system) a process has used, in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function startServer(dir: string): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SHORTHORN_LOG_LEVEL: 'warn' };
  delete env.KUBERNETES_SERVICE_HOST;
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'shorthorn.mjs'), 'webhooks', '--listen', '127.0.0.1:0', '--self-signed', dir], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /https:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the webhook server exited (${code}) before listening`)));
  });
  return {
    port,
    pid: child.pid ?? 0,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs the benchmark and prints its figures. */
export async function run(args: string[]): Promise<void> {
  const rate = flag(args, 'rate', 1000);
  const seconds = flag(args, 'seconds', 10);
  // Connections the client may open (as the API server keeps a pool); more means TLS handshakes after a stall.
  const sockets = flag(args, 'sockets', 16);
  const dir = mkdtempSync(join(tmpdir(), 'shorthorn-bench-webhooks-'));
  const server = await startServer(dir);
  // One pool for the whole run, so the warm-up opens the connections the measured phases reuse.
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  try {
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    console.log(`webhooks bench: HTTPS on 127.0.0.1:${server.port}, open loop at ${rate} requests/s for ${seconds} s (after a 2 s warm-up), keep-alive agent of ${sockets} sockets`);
    await drive(agent, server.port, ca, admissionShots(), rate, 2);
    const a0 = cpuMs(server.pid);
    const anchorRes = await drive(agent, server.port, ca, [{ path: '/healthz' }], rate, Math.max(2, seconds / 2));
    const anchorCpu = ((cpuMs(server.pid) - a0) / anchorRes.latenciesMs.length) * 1000;
    const anchor = summary('anchor GET /healthz', anchorRes);
    console.log(`server CPU per /healthz request: ${anchorCpu.toFixed(0)} µs`);
    const cpu0 = cpuMs(server.pid);
    const res = await drive(agent, server.port, ca, admissionShots(), rate, seconds);
    const cpuPerReq = ((cpuMs(server.pid) - cpu0) / res.latenciesMs.length) * 1000;
    const adm = summary('admission (mix of 5)', res);
    console.log(`server CPU per admission request: ${cpuPerReq.toFixed(0)} µs (TLS, HTTP, express, the chain); ${((cpuPerReq * rate) / 1e4).toFixed(0)}% of one core at ${rate}/s; load average now ${(await import('node:os')).loadavg()[0]?.toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
    console.log(await serverHistogram(server.port, ca));
    console.log(`admission / anchor: p50 ×${(adm.p50 / anchor.p50).toFixed(2)}, p99 ×${(adm.p99 / anchor.p99).toFixed(2)}; goal p99 < 5 ms at 1,000/s: ${adm.p99 < 5 ? 'met' : 'not met'}`);
  } finally {
    agent.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
