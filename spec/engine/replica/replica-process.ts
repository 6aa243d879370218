import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../../bin/shorthorn.mjs');

/** A running `shorthorn replica serve` child. */
export interface ReplicaProcess {
  readonly child: ChildProcess;
  readonly host: string;
  readonly port: number;
  /** stderr lines so far (JSON logs). */
  readonly stderr: string[];
  /** Resolves with the exit code (or the signal name) once it has exited. */
  readonly exited: Promise<number | string>;
}

/** Runs `shorthorn replica serve` and returns the exit code and output of a run that fails to start. */
export async function runReplica(args: readonly string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'replica', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | string>((r) => child.once('exit', (c, s) => r(c ?? s ?? -1)));
  return { code, stdout, stderr };
}

/** Starts `shorthorn replica serve` on 127.0.0.1:0 and waits for its `{"listening": …}` line. */
export async function startReplica(opts: { dir: string; size: string; secretFile: string }): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [BIN, 'replica', 'serve', '--dir', opts.dir, '--size', opts.size, '--listen', '127.0.0.1:0', '--secret-file', opts.secretFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | string>((r) => child.once('exit', (c, s) => r(c ?? s ?? -1)));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      try {
        const v = JSON.parse(l) as { listening?: string };
        if (typeof v.listening === 'string') resolve(v.listening);
      } catch {
        // not our line
      }
    });
    void exited.then((c) => reject(new Error(`replica exited (${c}) before listening: ${stderr.join('\n')}`)));
  });
  const [host, port] = address.split(':') as [string, string];
  return { child, host, port: Number(port), stderr, exited };
}
