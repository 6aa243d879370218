/**
 * `npm run bench -- webhooks [--rate N] [--seconds S] [--sockets N]`: admission latency at a steady
 * request rate over HTTPS on loopback. Starts the real server (`shorthorn webhooks --self-signed` in
 * a temp dir, its own process) and drives it open loop from this process over up to N keep-alive
 * TLS connections with prebuilt HTTP/1.1 requests, and prints p50/p90/p99/max. Latency counts from
 * each request's scheduled time, so a stalled server (or driver) cannot hide its backlog (no
 * coordinated omission). The anchor is /healthz at the same rate: TLS + HTTP + express alone. Each
 * phase also prints both processes' CPU per request, GC pauses and event-loop delay.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { connect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Shot {
  readonly path: string;
  readonly body?: string;
}

interface Result {
  /** From each request's scheduled time (counts the backlog when anything stalls). */
  readonly latenciesMs: Float64Array;
  /** From the moment the request was actually sent (the service time alone). */
  readonly serviceMs: Float64Array;
  /**
   * How late each request left after its scheduled time: the driver's timer tick, its own stalls,
   * and waiting for a free connection while the server holds all of them.
   */
  readonly latenessMs: Float64Array;
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

/** A request as bytes on the wire: HTTP/1.1 keep-alive, built once and written as is. */
function wire(shot: Shot): Buffer {
  const head = shot.body === undefined
    ? `GET ${shot.path} HTTP/1.1\r\nHost: localhost\r\n\r\n`
    : `POST ${shot.path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(shot.body)}\r\n\r\n${shot.body}`;
  return Buffer.from(head);
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

/** What a connection reports: a request finished (index ≥ 0), or the connection became ready or died (-1). */
type OnDone = (c: Connection, index: number, ok: boolean) => void;

/**
 * One keep-alive TLS connection carrying one request at a time (as Go's http.Transport, the API
 * server's client, does over HTTP/1.1). It parses only what it needs: the status code and
 * Content-Length (the server always sends one), so the driver costs little CPU next to the server.
 */
class Connection {
  private pending: Buffer | undefined;
  private need = -1;
  private status = 0;
  /** The request in flight (its index), or -1. */
  inFlight = -1;
  ready = false;
  dead = false;

  constructor(
    private readonly socket: TLSSocket,
    public onDone: OnDone,
  ) {
    socket.setNoDelay(true);
    socket.on('secureConnect', () => {
      this.ready = true;
      this.onDone(this, -1, true);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = () => {
      if (this.dead) return;
      this.dead = true;
      const i = this.inFlight;
      this.inFlight = -1;
      this.onDone(this, i, false);
    };
    socket.on('error', fail);
    socket.on('close', fail);
  }

  send(index: number, bytes: Buffer): void {
    this.inFlight = index;
    this.need = -1;
    this.socket.write(bytes);
  }

  close(): void {
    this.dead = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.need < 0) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        this.pending = buf;
        return;
      }
      const head = buf.toString('latin1', 0, end);
      const m = CONTENT_LENGTH.exec(head);
      this.status = Number(head.slice(9, 12)); // "HTTP/1.1 200 OK"
      this.need = end + 4 + (m ? Number(m[1]) : 0);
    }
    if (buf.length < this.need) {
      this.pending = buf;
      return;
    }
    this.pending = undefined;
    const i = this.inFlight;
    this.inFlight = -1;
    this.need = -1;
    this.onDone(this, i, this.status === 200);
  }
}

/**
 * The load generator: an open loop that releases request i at t0 + i/rate whether or not earlier
 * answers came back, onto the most recently idle connection (LIFO, as Go's Transport), opening a
 * new one up to `sockets` when none is idle (its TLS handshake then counts in the waiting
 * request's time), and queuing past that. Connections stay open from one phase to the next. Times
 * go into preallocated arrays: nothing is allocated per request here but the socket's own chunks.
 */
class LoadGenerator {
  private readonly pool = new Set<Connection>();

  constructor(
    private readonly port: number,
    private readonly ca: string,
    private readonly sockets: number,
  ) {}

  /** Sends `rate` requests a second for `seconds`, cycling through `shots`. */
  run(shots: Shot[], rate: number, seconds: number): Promise<Result> {
    const bytes = shots.map(wire);
    const total = Math.round(rate * seconds);
    const latenciesMs = new Float64Array(total);
    const serviceMs = new Float64Array(total);
    const latenessMs = new Float64Array(total);
    const sentAt = new Float64Array(total);
    const queue = new Int32Array(total);
    let qHead = 0;
    let qTail = 0;
    let released = 0;
    let finished = 0;
    let errors = 0;
    const idle = [...this.pool].filter((c) => c.ready && c.inFlight < 0);
    const t0 = performance.now();
    const due = (i: number) => t0 + (i * 1000) / rate;
    return new Promise((resolve) => {
      const dispatch = () => {
        while (qHead < qTail) {
          const c = idle.pop();
          if (c === undefined) break;
          const i = queue[qHead++] as number;
          const now = performance.now();
          sentAt[i] = now;
          latenessMs[i] = now - due(i);
          c.send(i, bytes[i % bytes.length] as Buffer);
        }
        let connecting = 0;
        for (const c of this.pool) if (!c.ready) connecting++;
        while (qTail - qHead > connecting && this.pool.size < this.sockets) {
          this.open(onDone);
          connecting++;
        }
      };
      const release = (now: number) => {
        while (released < total && due(released) <= now) queue[qTail++] = released++;
      };
      const onDone: OnDone = (c, i, ok) => {
        if (i >= 0) {
          const now = performance.now();
          // An answer wakes the loop: release what fell due since the last timer tick too.
          release(now);
          latenciesMs[i] = now - due(i);
          serviceMs[i] = now - (sentAt[i] as number);
          if (!ok) errors++;
          finished++;
        }
        if (c.dead) {
          this.pool.delete(c);
          const k = idle.indexOf(c);
          if (k >= 0) idle.splice(k, 1);
        } else if (c.ready) idle.push(c);
        if (finished === total) resolve({ latenciesMs, serviceMs, latenessMs, errors, elapsedS: (performance.now() - t0) / 1000 });
        else dispatch();
      };
      for (const c of this.pool) c.onDone = onDone;
      const tick = () => {
        release(performance.now());
        dispatch();
        // Node's timers have 1 ms granularity: a request may leave up to ~1 ms after its time, and
        // that lateness is in its latency (and printed apart).
        if (released < total) setTimeout(tick, Math.max(1, due(released) - performance.now()));
      };
      tick();
    });
  }

  /** Closes every connection. */
  close(): void {
    for (const c of this.pool) c.close();
    this.pool.clear();
  }

  private open(onDone: OnDone): void {
    this.pool.add(new Connection(connect({ host: '127.0.0.1', port: this.port, ca: this.ca, servername: 'localhost' }), onDone));
  }
}

/** GET /metrics over its own short connection (outside the measured phases). */
function scrape(port: number, ca: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics', agent: false, ca, servername: 'localhost' }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    }).on('error', reject).end();
  });
}

/** The server's own view: its latency histogram, as the share of admission requests under each bound. */
function serverHistogram(text: string): string {
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^shorthorn_webhook_request_duration_seconds_bucket\{le="([^"]+)",path="[^"]+"\} (\d+)$/gm)) buckets.set(m[1] as string, (buckets.get(m[1] as string) ?? 0) + Number(m[2]));
  const all = buckets.get('+Inf') ?? 0;
  const share = (le: string) => `${(((buckets.get(le) ?? 0) / Math.max(1, all)) * 100).toFixed(2)}% ≤ ${Number(le) * 1000} ms`;
  return `server-side (body parsed → answer, all ${all} admission requests incl. warm-up): ${['0.0005', '0.001', '0.0025', '0.005'].map(share).join(', ')}`;
}

/** The server's GC counters (prom-client's nodejs_gc_duration_seconds): per kind, count, sum (s), count ≤ 1 ms. */
function serverGc(text: string): Map<string, { n: number; sumS: number; under1ms: number }> {
  const gc = new Map<string, { n: number; sumS: number; under1ms: number }>();
  const at = (kind: string) => gc.get(kind) ?? gc.set(kind, { n: 0, sumS: 0, under1ms: 0 }).get(kind)!;
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_(count|sum)\{kind="(\w+)"\} ([\d.e+-]+)$/gm)) at(m[2] as string)[m[1] === 'count' ? 'n' : 'sumS'] = Number(m[3]);
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_bucket\{le="0\.001",kind="(\w+)"\} (\d+)$/gm)) at(m[1] as string).under1ms = Number(m[2]);
  return gc;
}

/** The period of the event-loop delay probes (ours, and prom-client's default); subtracted from what they report. */
const PROBE_MS = 10;

/** What the server's GC did between two scrapes, one line. */
function gcDelta(before: string, after: string): string {
  const a = serverGc(before);
  const parts: string[] = [];
  for (const [kind, b] of serverGc(after)) {
    const x = a.get(kind) ?? { n: 0, sumS: 0, under1ms: 0 };
    const n = b.n - x.n;
    if (n > 0) parts.push(`${kind} ${n}× (${((b.sumS - x.sumS) * 1000).toFixed(1)} ms in all, ${n - (b.under1ms - x.under1ms)} over 1 ms)`);
  }
  // prom-client samples the delay with a 10 ms timer (its default precision); the figures include it.
  const lag = (name: string) => Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(after)?.[1]) * 1000 - PROBE_MS;
  return `GC ${parts.join(', ') || 'none'}; event-loop delay p99 ${lag('p99').toFixed(1)} ms, max ${lag('max').toFixed(1)} ms`;
}

/** The driver's own disturbances during a phase: its event-loop delay and GC pauses. */
function watchSelf(): () => string {
  const delay = monitorEventLoopDelay({ resolution: PROBE_MS });
  delay.enable();
  let n = 0;
  let totalMs = 0;
  let maxMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      n++;
      totalMs += e.duration;
      maxMs = Math.max(maxMs, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return () => {
    delay.disable();
    obs.disconnect();
    return `GC ${n}× (${totalMs.toFixed(1)} ms in all, longest ${maxMs.toFixed(1)} ms); event-loop delay p99 ${(delay.percentile(99) / 1e6 - PROBE_MS).toFixed(1)} ms, max ${(delay.max / 1e6 - PROBE_MS).toFixed(1)} ms`;
  };
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(name: string, r: Result): { p50: number; p99: number } {
  const s = Float64Array.from(r.latenciesMs).sort();
  const f = (v: number) => v.toFixed(2).padStart(7);
  const p50 = pct(s, 50);
  const p99 = pct(s, 99);
  const sv = Float64Array.from(r.serviceMs).sort();
  const late = Float64Array.from(r.latenessMs).sort();
  console.log(`${name.padEnd(22)} n=${s.length} rate=${(s.length / r.elapsedS).toFixed(0)}/s errors=${r.errors}  p50=${f(p50)} ms  p90=${f(pct(s, 90))} ms  p99=${f(p99)} ms  p99.9=${f(pct(s, 99.9))} ms  max=${f(s[s.length - 1] ?? NaN)} ms`);
  console.log(`${''.padEnd(22)} service time only (from the actual send): p50=${f(pct(sv, 50))} ms  p99=${f(pct(sv, 99))} ms; send lateness (timer tick + wait for a free connection): p50=${f(pct(late, 50))} ms  p99=${f(pct(late, 99))} ms`);
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

/** The server process; its log (stderr) is read and counted, as a container runtime reads it. */
async function startServer(dir: string): Promise<{ port: number; pid: number; logLines: () => number; stop: () => Promise<void> }> {
  // The log level stays the Deployment's (info: one line per refusal), so its cost is in the figures.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SHORTHORN_LOG_LEVEL;
  delete env.KUBERNETES_SERVICE_HOST;
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'shorthorn.mjs'), 'webhooks', '--listen', '127.0.0.1:0', '--self-signed', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let tail = '';
  child.stderr.on('data', (c: Buffer) => {
    for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
    tail = (tail + c.toString()).slice(-2000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /https:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the webhook server exited (${code}) before listening: ${tail}`)));
  });
  return {
    port,
    pid: child.pid ?? 0,
    logLines: () => lines,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One measured phase: the driver's figures, its own disturbances, the server's CPU and GC. */
async function phase(name: string, gen: LoadGenerator, server: { port: number; pid: number }, ca: string, shots: Shot[], rate: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const before = await scrape(server.port, ca);
  const cpu0 = cpuMs(server.pid);
  const self0 = process.cpuUsage();
  const self = watchSelf();
  const r = await gen.run(shots, rate, seconds);
  const selfLine = self();
  const selfCpu = process.cpuUsage(self0);
  const cpuPerReq = ((cpuMs(server.pid) - cpu0) / r.latenciesMs.length) * 1000;
  const after = await scrape(server.port, ca);
  const figures = summary(name, r);
  console.log(`${''.padEnd(22)} server: CPU ${cpuPerReq.toFixed(0)} µs a request (${((cpuPerReq * rate) / 1e4).toFixed(0)}% of one core); ${gcDelta(before, after)}`);
  console.log(`${''.padEnd(22)} driver: CPU ${((selfCpu.user + selfCpu.system) / r.latenciesMs.length).toFixed(0)} µs a request; ${selfLine}`);
  return figures;
}

/** Runs the benchmark and prints its figures. */
export async function run(args: string[]): Promise<void> {
  const rate = flag(args, 'rate', 1000);
  const seconds = flag(args, 'seconds', 10);
  // Connections the client may open (as the API server keeps a pool); more means TLS handshakes after a stall.
  const sockets = flag(args, 'sockets', 16);
  const dir = mkdtempSync(join(tmpdir(), 'shorthorn-bench-webhooks-'));
  const server = await startServer(dir);
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  // One pool for the whole run, so the warm-up opens the connections the measured phases reuse.
  const gen = new LoadGenerator(server.port, ca, sockets);
  try {
    console.log(`webhooks bench: HTTPS on 127.0.0.1:${server.port}, open loop at ${rate} requests/s for ${seconds} s (after a 2 s warm-up), up to ${sockets} keep-alive TLS connections`);
    await gen.run(admissionShots(), rate, 2);
    const anchor = await phase('anchor GET /healthz', gen, server, ca, [{ path: '/healthz' }], rate, Math.max(2, seconds / 2));
    const adm = await phase('admission (mix of 5)', gen, server, ca, admissionShots(), rate, seconds);
    const os = await import('node:os');
    console.log(serverHistogram(await scrape(server.port, ca)));
    console.log(`server log: ${server.logLines()} lines on stderr at the default level (info: one per refused review)`);
    console.log(`load average now ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
    console.log(`admission / anchor: p50 ×${(adm.p50 / anchor.p50).toFixed(2)}, p99 ×${(adm.p99 / anchor.p99).toFixed(2)}; goal p99 < 5 ms at 1,000/s: ${adm.p99 < 5 ? 'met' : 'not met'}`);
  } finally {
    gen.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
