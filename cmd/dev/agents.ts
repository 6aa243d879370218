import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../api/log.ts';

/** One simulated node: its agent's arguments and where its files live. */
export interface DevNode {
  readonly name: string;
  readonly dir: string;
  readonly disks: ReadonlyArray<{ name: string; path: string }>;
  readonly portRange: readonly [number, number];
}

/** The simulated nodes of a dev cluster: node1…nodeN, each with its own disk folders and port range. */
export function devNodes(dataDir: string, count: number, disksPerNode: number, portBase: number): DevNode[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `node${i + 1}`;
    const dir = join(dataDir, 'nodes', name);
    const disks = Array.from({ length: disksPerNode }, (_, j) => ({ name: `disk${j + 1}`, path: join(dir, 'disks', `disk${j + 1}`) }));
    const lo = portBase + i * 1000;
    return { name, dir, disks, portRange: [lo, lo + 999] as const };
  });
}

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'shorthorn.mjs');

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The agents of a dev cluster, one child process per node, kept running the way a kubelet keeps a
 * DaemonSet's pods: an agent that dies (or is SIGKILLed by a test) is started again after a short
 * backoff, and the new agent adopts the replicas and engines the old one started. Each agent's pid
 * is in <node dir>/agent.pid; an agent left over from a dev cluster that was itself SIGKILLed is
 * found there on the next start and ended (its children stay up for the new agent to adopt).
 */
export class AgentFleet {
  private readonly children = new Map<string, ChildProcess>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;

  constructor(
    private readonly nodes: readonly DevNode[],
    private readonly opts: { server: string; dataDir: string; host: string; log: Logger; restartDelayMs?: number },
  ) {}

  /** Starts every agent (ending stale ones first). */
  start(): void {
    for (const n of this.nodes) {
      mkdirSync(join(n.dir, 'agent'), { recursive: true });
      for (const d of n.disks) mkdirSync(d.path, { recursive: true });
      this.endStale(n);
      this.spawn(n);
    }
  }

  /** The pid of a node's running agent. */
  pid(node: string): number | undefined {
    return this.children.get(node)?.pid;
  }

  private pidFile(n: DevNode): string {
    return join(n.dir, 'agent.pid');
  }

  private endStale(n: DevNode): void {
    const f = this.pidFile(n);
    if (!existsSync(f)) return;
    const pid = Number(readFileSync(f, 'utf8').trim());
    // Only a process that is really this node's agent (by its command line) is ended.
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid) && cmdline(pid).includes(`\0--node\0${n.name}\0`) && cmdline(pid).includes(BIN)) {
      this.opts.log.warn('ending an agent left over from an earlier run', { node: n.name, pid });
      process.kill(pid, 'SIGKILL');
    }
    rmSync(f, { force: true });
  }

  private spawn(n: DevNode): void {
    if (this.stopping) return;
    const args = [
      BIN,
      'agent',
      '--node', n.name,
      ...n.disks.flatMap((d) => ['--disk', `${d.name}=${d.path}`]),
      '--server', this.opts.server,
      '--data-root', join(n.dir, 'agent'),
      '--cluster-secret-file', join(this.opts.dataDir, 'cluster.secret'),
      '--host', this.opts.host,
      '--port-range', `${n.portRange[0]}-${n.portRange[1]}`,
      '--stop-children',
    ];
    const logFd = openSync(join(this.opts.dataDir, 'logs', `agent-${n.name}.log`), 'a');
    const child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    this.children.set(n.name, child);
    if (child.pid !== undefined) writeFileSync(this.pidFile(n), String(child.pid));
    this.opts.log.info('agent started', { node: n.name, pid: child.pid });
    child.once('exit', (code, signal) => {
      if (this.children.get(n.name) === child) this.children.delete(n.name);
      if (this.stopping) return;
      this.opts.log.warn('agent exited; starting it again', { node: n.name, code, signal });
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.spawn(n);
      }, this.opts.restartDelayMs ?? 1000);
      this.timers.add(t);
    });
  }

  /** Stops every agent with SIGTERM; they stop their replicas and engines (--stop-children). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(
      [...this.children.entries()].map(async ([node, child]) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await gone;
        clearTimeout(timer);
        rmSync(join(this.nodes.find((n) => n.name === node)?.dir ?? '', 'agent.pid'), { force: true });
      }),
    );
  }
}
