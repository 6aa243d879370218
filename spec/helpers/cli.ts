import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository's `shorthorn` executable. */
export const SHORTHORN = join(import.meta.dirname, '..', '..', 'bin', 'shorthorn.mjs');

/** Runs `shorthorn ARGS` to completion; resolves with its exit code and output. */
export async function shorthorn(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SHORTHORN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code: code ?? -1, stdout, stderr };
}

/** Starts a long-running `shorthorn ARGS` and resolves once a stdout line matches `ready`. */
export async function startShorthorn(args: readonly string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; match: RegExpMatchArray; stderr: () => string }> {
  const child = spawn(process.execPath, [SHORTHORN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    lines.on('line', (l) => {
      const m = ready.exec(l);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`shorthorn ${args.join(' ')} exited with ${code} before it was ready: ${stderr}`)));
  });
  return { child, match, stderr: () => stderr };
}

/** SIGKILLs a child we started and waits until it is gone. */
export async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGKILL');
  await gone;
}
