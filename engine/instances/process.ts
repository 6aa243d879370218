import { spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';

/**
 * Child processes that outlive the agent: spawned detached (their own session, so a Ctrl-C or the
 * agent's death does not reach them), stdio to files, unref'd. Liveness and identity come from
 * /proc: a pid is only "ours" while its start time (field 22 of /proc/<pid>/stat) matches the one
 * recorded at spawn, which guards against pid reuse.
 */

/** What /proc/<pid>/stat says of a process. */
export interface ProcStat {
  /** One-letter state (R, S, D, Z zombie, X dead, ...). */
  readonly state: string;
  /** Start time in clock ticks since boot. */
  readonly startTime: string;
}

/** Reads /proc/<pid>/stat; undefined when there is no such process. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const state = rest[0];
  const startTime = rest[19];
  if (state === undefined || startTime === undefined) return undefined;
  return { state, startTime };
}

/** Reads /proc/<pid>/cmdline as argv; undefined when there is no such process. */
export async function readCmdline(pid: number): Promise<string[] | undefined> {
  try {
    const buf = await fs.readFile(`/proc/${pid}/cmdline`);
    const parts = buf.toString('utf8').split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

/** Is the process with this pid and start time alive (not a zombie)? */
export async function isProcessAlive(pid: number, startTime: string): Promise<boolean> {
  const s = await readProcStat(pid);
  return s !== undefined && s.startTime === startTime && s.state !== 'Z' && s.state !== 'X';
}

/** Does the live process `pid` run exactly `argv`? */
export async function hasCmdline(pid: number, argv: readonly string[]): Promise<boolean> {
  const c = await readCmdline(pid);
  return c !== undefined && c.length === argv.length && c.every((a, i) => a === argv[i]);
}

/** A freshly spawned detached child. `exited` settles when it exits (only for children of this process). */
export interface SpawnedProcess {
  readonly pid: number;
  readonly startTime: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `argv` detached, stdout truncated into `stdoutFile`, stderr appended to `logFile`.
 * Throws when the spawn itself fails (no such program).
 */
export async function spawnDetached(argv: readonly string[], stdoutFile: string, logFile: string, env?: NodeJS.ProcessEnv): Promise<SpawnedProcess> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('spawnDetached: empty argv');
  const out = openSync(stdoutFile, 'w', 0o600);
  const err = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, err], env: env ?? process.env });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', reject);
    });
    child.unref();
    const stat = await readProcStat(pid);
    return { pid, startTime: stat?.startTime ?? '', exited };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/** Waits until `pred` holds, checking every `stepMs`, for at most `timeoutMs`; true when it held. */
export async function pollUntil(pred: () => Promise<boolean>, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Ends a process: SIGTERM, then SIGKILL after `graceMs` if it still lives. Only signals the pid
 * while its start time still matches (never a stranger that reused the pid).
 */
export async function terminateProcess(pid: number, startTime: string, graceMs = 3000): Promise<void> {
  if (!(await isProcessAlive(pid, startTime))) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await pollUntil(async () => !(await isProcessAlive(pid, startTime)), graceMs)) return;
  if (!(await isProcessAlive(pid, startTime))) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await pollUntil(async () => !(await isProcessAlive(pid, startTime)), 2000);
}

/** Live processes whose argv holds an argument starting with `prefix` (our children carry our data root). */
export async function findProcessesWithArgPrefix(prefix: string): Promise<Array<{ pid: number; startTime: string; argv: string[] }>> {
  const out: Array<{ pid: number; startTime: string; argv: string[] }> = [];
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const argv = await readCmdline(pid);
    if (argv === undefined || !argv.some((a) => a.startsWith(prefix))) continue;
    const stat = await readProcStat(pid);
    if (stat === undefined || stat.state === 'Z') continue;
    out.push({ pid, startTime: stat.startTime, argv });
  }
  return out;
}
