import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '../../../api/log.ts';
import type { Engine, EngineOptions } from '../../../engine/controller/engine.ts';
import { openEngine } from '../../../engine/controller/start.ts';
import type { ReplicaConnection } from '../../../engine/replica/connection.ts';
import { connectReplica } from '../../../engine/wire/client.ts';

/**
 * Real processes for the fault tests: `shorthorn replica serve` children on 127.0.0.1, restartable
 * on the same directory and port, and an in-process Engine connected to them over the real wire.
 */

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'shorthorn.mjs');

/** A child process that printed one JSON line on stdout when ready. */
export interface Child {
  readonly proc: ChildProcess;
  readonly ready: Record<string, string>;
  readonly stderr: string[];
  readonly exited: Promise<unknown>;
}

/** Spawns `node bin/shorthorn.mjs …args` (or a script) and waits for its first stdout JSON line. */
export async function spawnReady(args: readonly string[], opts: { script?: string; onLine?: (line: string) => void } = {}): Promise<Child> {
  const argv = opts.script !== undefined ? ['--import', 'tsx', opts.script, ...args] : [BIN, ...args];
  const proc = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHORTHORN_LOG_LEVEL: 'info' } });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = once(proc, 'exit');
  const lines = createInterface({ input: proc.stdout! });
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    let first = true;
    lines.on('line', (l) => {
      if (first) {
        first = false;
        try {
          resolve(JSON.parse(l) as Record<string, string>);
        } catch {
          reject(new Error(`not a JSON ready line: ${l}`));
        }
        return;
      }
      opts.onLine?.(l);
    });
    void exited.then(([code]) => reject(new Error(`${argv.slice(1).join(' ')} exited ${String(code)} before ready: ${stderr.slice(-3).join(' | ')}`)));
  });
  return { proc, ready, stderr, exited };
}

/** A replica process on a fixed directory, restartable on the same port. */
export class ReplicaProcess {
  child: Child | undefined;
  address = '';

  constructor(
    readonly dir: string,
    /** The --size it starts with (a test changes it after an expansion). */
    public sizeBytes: number,
    readonly secretFile: string,
  ) {}

  /** Starts (or restarts on the same port) and waits until it listens. */
  async start(): Promise<string> {
    const listen = this.address === '' ? '127.0.0.1:0' : this.address;
    this.child = await spawnReady(['replica', 'serve', '--dir', this.dir, '--size', String(this.sizeBytes), '--listen', listen, '--secret-file', this.secretFile]);
    this.address = this.child.ready.listening as string;
    return this.address;
  }

  /** Sends a signal and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c === undefined || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    c.proc.kill(signal);
    await c.exited;
  }

  get running(): boolean {
    return this.child !== undefined;
  }
}

/** A temp dir with a secret file; `cleanup` kills what it started and removes it. */
export class Cluster {
  readonly replicas: ReplicaProcess[] = [];
  readonly engines: Engine[] = [];
  readonly children: Child[] = [];

  private constructor(
    readonly dir: string,
    readonly secretFile: string,
    readonly secret: string,
    readonly sizeBytes: number,
  ) {}

  static async create(sizeBytes: number): Promise<Cluster> {
    const dir = await mkdtemp(join(tmpdir(), 'shorthorn-fault-'));
    const secret = 'fault-test-secret-0123456789abcdef';
    const secretFile = join(dir, 'secret');
    await writeFile(secretFile, secret + '\n');
    return new Cluster(dir, secretFile, secret, sizeBytes);
  }

  /** Adds `n` replica processes (directories under the cluster dir unless given) and starts them. */
  async addReplicas(n: number, dirFor?: (i: number) => string): Promise<ReplicaProcess[]> {
    const made: ReplicaProcess[] = [];
    for (let i = 0; i < n; i++) {
      const k = this.replicas.length + made.length;
      made.push(new ReplicaProcess(dirFor?.(k) ?? join(this.dir, `r${k + 1}`), this.sizeBytes, this.secretFile));
    }
    this.replicas.push(...made);
    await Promise.all(made.map((r) => r.start()));
    return made;
  }

  /** Connects to a replica address over the real wire. */
  readonly connect = (address: string): Promise<ReplicaConnection> => {
    const i = address.lastIndexOf(':');
    return connectReplica({ host: address.slice(0, i), port: Number(address.slice(i + 1)), secret: this.secret, timeoutMs: 3000 });
  };

  /** Opens an in-process engine over the given replicas. */
  async engine(replicas: readonly ReplicaProcess[], opts: Partial<EngineOptions> = {}): Promise<Engine> {
    const log = createLogger('engine-fault-test', { level: 'error' });
    const e = await openEngine({ volume: 'fault', sizeBytes: this.sizeBytes, connect: this.connect, log, timeoutMs: 3000, ...opts }, replicas.map((r) => r.address));
    this.engines.push(e);
    return e;
  }

  /** Reads a replica's whole contents (of `sizeBytes`, the cluster's size unless given) straight from it, not through the engine. */
  async contents(r: ReplicaProcess, sizeBytes = this.sizeBytes): Promise<{ data: Buffer; allocated: string }> {
    const c = await this.connect(r.address);
    try {
      const parts: Buffer[] = [];
      for (let o = 0; o < sizeBytes; o += 1 << 20) parts.push(await c.readAt(o, Math.min(1 << 20, sizeBytes - o)));
      const allocated = JSON.stringify(await c.allocatedRanges(0, sizeBytes));
      return { data: Buffer.concat(parts), allocated };
    } finally {
      c.close();
    }
  }

  async cleanup(): Promise<void> {
    for (const e of this.engines) await e.close().catch(() => undefined);
    for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(this.replicas.map((r) => r.kill('SIGKILL')));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** An engine's control-API status, as the process tests read it. */
export interface EngineStatusJson {
  sizeBytes: number;
  replicas: Array<{ address: string; mode: string; cause?: string; revision?: string }>;
}

/** GET /v1/status of a `shorthorn engine serve` process. */
export async function engineStatus(control: string): Promise<EngineStatusJson> {
  return (await (await fetch(`http://${control}/v1/status`)).json()) as EngineStatusJson;
}

/** Re-asks the status until `pred` holds or `ms` passes (each ask waits on the previous answer). */
export async function engineStatusUntil(control: string, pred: (s: EngineStatusJson) => boolean, ms: number): Promise<EngineStatusJson> {
  const deadline = performance.now() + ms;
  for (;;) {
    const s = await engineStatus(control);
    if (pred(s) || performance.now() > deadline) return s;
  }
}

const execFileP = promisify(execFile);

/** `shorthorn engine ARGS…` as a process; rejects with code and stderr on a non-zero exit. */
export function engineCli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileP(process.execPath, ['bin/shorthorn.mjs', 'engine', ...args], { cwd: ROOT });
}
