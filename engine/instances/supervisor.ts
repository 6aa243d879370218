import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import type { Logger } from '../../api/log.ts';
import { findProcessesWithArgPrefix, hasCmdline, isProcessAlive, spawnDetached, terminateProcess } from './process.ts';
import { PortAllocator } from './ports.ts';
import { loadChildRecords, saveChildRecords, type ChildRecord } from './state-file.ts';

/** How to start one child: its argv for the ports it is given, and the key of its ready line. */
export interface ChildSpec {
  readonly portCount: number;
  argv(ports: readonly number[]): string[];
  /** The child is ready once its stdout has a JSON object line with this key. */
  readonly readyKey: string;
  readonly dataDir?: string;
}

/** Where a supervised child is in its life. */
export type ChildPhase = 'starting' | 'running' | 'backoff';

/** What the reconcilers see of a child. */
export interface ChildView {
  readonly key: string;
  readonly phase: ChildPhase;
  readonly pid: number | undefined;
  readonly ports: readonly number[];
  readonly ready: Readonly<Record<string, unknown>> | undefined;
  /** Why it is not running (last exit, start failure). */
  readonly message: string | undefined;
  readonly restarts: number;
}

/** How a Supervisor runs its children. */
export interface SupervisorOptions {
  readonly dataRoot: string;
  readonly host: string;
  readonly portRange: readonly [number, number];
  readonly log: Logger;
  /** Called when a child's phase changes (or a backoff ends): reconcile again. */
  readonly onChange: () => void;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly startTimeoutMs?: number;
  /** How often adopted children (not our own, so no exit event) are checked. */
  readonly livenessMs?: number;
}

interface Entry {
  key: string;
  record: ChildRecord | undefined;
  phase: ChildPhase;
  failures: number;
  retryAt: number;
  message: string | undefined;
  restarts: number;
  starting: Promise<void> | undefined;
  stopping: boolean;
}

/** The last message a child logged (the `msg` of a JSON line, or the raw line), to say why it died. */
async function lastLogLine(path: string): Promise<string | undefined> {
  let fh;
  try {
    fh = await fs.open(path, 'r');
    const { size } = await fh.stat();
    const len = Math.min(size, 4096);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const line = buf.toString('utf8').trimEnd().split('\n').pop()?.trim();
    if (line === undefined || line === '') return undefined;
    try {
      const o = JSON.parse(line) as { msg?: unknown; error?: { message?: unknown } };
      const msg = typeof o.msg === 'string' ? o.msg : line;
      return (typeof o.error?.message === 'string' ? `${msg}: ${o.error.message}` : msg).slice(0, 300);
    } catch {
      return line.slice(0, 300);
    }
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

function safeName(key: string): string {
  return key.replace(/[^a-zA-Z0-9.-]/g, '_');
}

/**
 * Keeps child processes running: spawns them detached on ports from the range, waits for their
 * ready line, restarts them with exponential backoff when they die, and records each in the state
 * file so that a new agent adopts them. Concurrency contract: `ensure` and `stop` are called from
 * one reconcile loop at a time; exits and liveness checks only change entries and call onChange.
 */
export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  private readonly ports: PortAllocator;
  private saving: Promise<void> = Promise.resolve();
  private liveness: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly base: number;
  private readonly max: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.ports = new PortAllocator(opts.host, opts.portRange[0], opts.portRange[1]);
    this.base = opts.backoffBaseMs ?? 500;
    this.max = opts.backoffMaxMs ?? 30_000;
  }

  /** The prefix of an argument every child of this agent carries (its secret file under the data root). */
  get marker(): string {
    return join(this.opts.dataRoot, 'secrets') + '/';
  }

  private logPaths(key: string): { stdout: string; log: string } {
    const dir = join(this.opts.dataRoot, 'logs');
    return { stdout: join(dir, `${safeName(key)}.stdout`), log: join(dir, `${safeName(key)}.log`) };
  }

  /**
   * Adopts the live children a previous agent recorded (same pid, start time and argv) and ends
   * every other process that carries this agent's marker (a child the dead agent had not recorded).
   * Call once, before the first `ensure`.
   */
  async adopt(): Promise<void> {
    await fs.mkdir(join(this.opts.dataRoot, 'logs'), { recursive: true });
    const loaded = await loadChildRecords(this.opts.dataRoot);
    if (E.isLeft(loaded)) this.opts.log.warn('ignoring the children state file', { error: loaded.left });
    const records = E.isRight(loaded) ? loaded.right : [];
    for (const r of records) {
      const live = (await isProcessAlive(r.pid, r.startTime)) && (await hasCmdline(r.pid, r.argv));
      if (!live) continue;
      const ready = r.ready ?? (await this.readReadyLine(r.key, r.argv.includes('--control') ? 'control' : 'listening'));
      if (ready === undefined) {
        this.opts.log.warn('ending a recorded child that never became ready', { child: r.key, pid: r.pid });
        await terminateProcess(r.pid, r.startTime);
        continue;
      }
      this.entries.set(r.key, { key: r.key, record: { ...r, ready }, phase: 'running', failures: 0, retryAt: 0, message: undefined, restarts: 0, starting: undefined, stopping: false });
      this.opts.log.info('adopted child', { child: r.key, pid: r.pid });
    }
    const known = new Set([...this.entries.values()].map((e) => e.record?.pid));
    for (const p of await findProcessesWithArgPrefix(this.marker)) {
      if (known.has(p.pid)) continue;
      this.opts.log.warn('ending an orphan child of an earlier agent', { pid: p.pid, argv: p.argv.join(' ') });
      await terminateProcess(p.pid, p.startTime);
    }
    await this.save();
    this.liveness = setInterval(() => void this.checkLiveness(), this.opts.livenessMs ?? 500);
    this.liveness.unref();
  }

  /** Ends adopted children that no reconciler claimed in its first pass (their objects are gone). */
  async sweep(claimed: ReadonlySet<string>): Promise<string[]> {
    const ended: string[] = [];
    for (const key of [...this.entries.keys()]) {
      if (claimed.has(key)) continue;
      this.opts.log.info('ending an unclaimed child', { child: key });
      await this.stop(key);
      ended.push(key);
    }
    return ended;
  }

  /** The child's current view, if it is supervised. */
  view(key: string): ChildView | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    return { key, phase: e.phase, pid: e.record?.pid, ports: e.record?.ports ?? [], ready: e.record?.ready, message: e.message, restarts: e.restarts };
  }

  /** Every supervised key. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The record of a supervised child (data dir, argv). */
  record(key: string): ChildRecord | undefined {
    return this.entries.get(key)?.record;
  }

  /** Makes sure the child runs: starts it, or leaves it in backoff until its retry time. */
  ensure(key: string, spec: ChildSpec): ChildView {
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { key, record: undefined, phase: 'starting', failures: 0, retryAt: 0, message: undefined, restarts: 0, starting: undefined, stopping: false };
      this.entries.set(key, e);
    }
    if (e.record === undefined && e.starting === undefined && !this.closed && Date.now() >= e.retryAt) {
      const entry = e;
      entry.phase = 'starting';
      entry.starting = this.start(entry, spec).finally(() => {
        entry.starting = undefined;
      });
    }
    return this.view(key) as ChildView;
  }

  private usedPorts(): Set<number> {
    const s = new Set<number>();
    for (const e of this.entries.values()) for (const p of e.record?.ports ?? []) s.add(p);
    return s;
  }

  private async start(e: Entry, spec: ChildSpec): Promise<void> {
    const ports = await this.ports.take(spec.portCount, this.usedPorts());
    if (ports === undefined) {
      this.fail(e, `no free port in ${this.opts.portRange[0]}-${this.opts.portRange[1]}`);
      return;
    }
    const argv = spec.argv(ports);
    const paths = this.logPaths(e.key);
    let spawned;
    try {
      spawned = await spawnDetached(argv, paths.stdout, paths.log);
    } catch (err) {
      this.fail(e, `cannot start: ${(err as Error).message}`);
      return;
    }
    const record: ChildRecord = { key: e.key, pid: spawned.pid, startTime: spawned.startTime, argv, ports, startedAt: new Date().toISOString(), ...(spec.dataDir !== undefined ? { dataDir: spec.dataDir } : {}) };
    e.record = record;
    e.message = undefined;
    await this.save();
    this.opts.log.info('started child', { child: e.key, pid: spawned.pid, ports });
    let exited = false;
    void spawned.exited.then((x) => {
      exited = true;
      this.onExit(e, record, x.signal !== null ? `killed by ${x.signal}` : `exited with code ${x.code}`);
    });
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 15_000);
    while (!exited && e.record === record && Date.now() < deadline) {
      const ready = await this.readReadyLine(e.key, spec.readyKey);
      if (ready !== undefined) {
        record.ready = ready;
        e.phase = 'running';
        await this.save();
        this.opts.onChange();
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!exited && e.record === record) {
      this.opts.log.warn('child did not become ready in time; ending it', { child: e.key, pid: record.pid });
      await terminateProcess(record.pid, record.startTime);
    }
  }

  private async readReadyLine(key: string, readyKey: string): Promise<Record<string, unknown> | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.logPaths(key).stdout, 'utf8');
    } catch {
      return undefined;
    }
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const o = JSON.parse(line) as unknown;
        if (typeof o === 'object' && o !== null && readyKey in o) return o as Record<string, unknown>;
      } catch {
        // a partial line: read again later
      }
    }
    return undefined;
  }

  private fail(e: Entry, message: string): void {
    e.failures++;
    const delay = Math.min(this.base * 2 ** (e.failures - 1), this.max);
    e.phase = 'backoff';
    e.retryAt = Date.now() + delay;
    e.message = `${message}; restarting in ${delay} ms`;
    this.opts.log.warn('child failed', { child: e.key, message: e.message });
    if (!this.closed) setTimeout(() => this.opts.onChange(), delay).unref();
    this.opts.onChange();
  }

  private onExit(e: Entry, record: ChildRecord, how: string): void {
    // A closed supervisor no longer owns its children (a new agent may have adopted them).
    if (this.closed || e.record !== record || e.stopping || this.entries.get(e.key) !== e) return;
    e.record = undefined;
    e.restarts++;
    // A child that ran for longer than the longest backoff starts its backoff afresh.
    if (record.ready !== undefined && record.startedAt !== undefined && Date.now() - Date.parse(record.startedAt) > this.max) e.failures = 0;
    void this.save();
    this.fail(e, `pid ${record.pid} ${how}`);
    // Say why, from the child's last log line, once it is read.
    const said = e.message;
    void lastLogLine(this.logPaths(e.key).log).then((line) => {
      if (line === undefined || e.message !== said || e.phase !== 'backoff') return;
      e.message = `pid ${record.pid} ${how} (${line})${said?.slice(`pid ${record.pid} ${how}`.length) ?? ''}`;
      this.opts.onChange();
    });
  }

  private async checkLiveness(): Promise<void> {
    for (const e of [...this.entries.values()]) {
      const r = e.record;
      if (r === undefined || e.starting !== undefined) continue;
      if (!(await isProcessAlive(r.pid, r.startTime))) this.onExit(e, r, 'is gone');
    }
  }

  /** Stops a child (SIGTERM, then SIGKILL) and forgets it; returns its last record. */
  async stop(key: string): Promise<ChildRecord | undefined> {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    e.stopping = true;
    await e.starting;
    const r = e.record;
    if (r !== undefined) await terminateProcess(r.pid, r.startTime);
    this.entries.delete(key);
    await this.save();
    if (r !== undefined) this.opts.log.info('stopped child', { child: key, pid: r.pid });
    return r;
  }

  private save(): Promise<void> {
    const records = [...this.entries.values()].flatMap((e) => (e.record === undefined ? [] : [e.record]));
    this.saving = this.saving.then(() => saveChildRecords(this.opts.dataRoot, records)).catch((err: unknown) => this.opts.log.error('cannot write the children state file', { error: err }));
    return this.saving;
  }

  /** Stops supervising. With `stopChildren` the children are ended too (their keys are returned); otherwise they keep running for the next agent. */
  async close(stopChildren: boolean): Promise<string[]> {
    this.closed = true;
    clearInterval(this.liveness);
    await Promise.all([...this.entries.values()].map((e) => e.starting));
    const stopped: string[] = [];
    if (stopChildren) {
      for (const key of [...this.entries.keys()]) {
        await this.stop(key);
        stopped.push(key);
      }
    }
    await this.save();
    return stopped;
  }
}
