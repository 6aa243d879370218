import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const BIN = fileURLToPath(new URL('../../bin/shorthorn.mjs', import.meta.url));

/** A `shorthorn target serve` child process on a temporary file. */
export interface ServedTarget {
  readonly portal: string;
  readonly iqn: string;
  readonly dir: string;
  readonly child: ChildProcess;
  /** iscsi://[creds@]portal/iqn/0 */
  url(creds?: string): string;
  stop(): Promise<void>;
}

/** Starts `shorthorn target serve` on port 0 and waits for its JSON line. */
export async function serveTarget(extra: string[] = [], sizeArg = '64Mi'): Promise<ServedTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'shorthorn-iscsi-'));
  const child = spawn(process.execPath, [BIN, 'target', 'serve', '--file', join(dir, 'disk.img'), '--size', sizeArg, '--listen', '127.0.0.1:0', '--volume', 'vol1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SHORTHORN_LOG_LEVEL: 'warn' },
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`target serve exited with ${code}: ${stderr.join('')}`)));
  });
  const { portal, iqn } = JSON.parse(line) as { portal: string; iqn: string };
  return {
    portal,
    iqn,
    dir,
    child,
    url: (creds) => `iscsi://${creds !== undefined ? `${creds}@` : ''}${portal}/${iqn}/0`,
    async stop() {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a tool; resolves with exit code, stdout and stderr (never rejects on a non-zero exit). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
