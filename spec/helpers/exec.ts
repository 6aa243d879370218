import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Runs a program to completion; resolves with exit code and output (never rejects on exit code). */
export async function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  if (timer) clearTimeout(timer);
  return { code: code ?? (signal ? 128 : -1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr };
}
