/**
 * `npm run bench -- iscsi [--scale N] [--rounds N]`: Debian's tgtd and `shorthorn target serve`, each on an
 * identical 256 MiB file, driven by the same initiator (`qemu-img bench` with iscsi:// URLs):
 * 4 KiB writes and reads at queue depth 32 and 1, 1 MiB writes and reads at depth 8. Prints IOPS,
 * MiB/s and the ratio Shorthorn/tgt per row; then the same rows on a 3-replica volume served by
 * `shorthorn engine serve --frontend iscsi` (skip with --no-replicas). Records the tables under
 * "## iscsi" in bench/README.md.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = 256 * 1024 * 1024;

interface Row {
  readonly name: string;
  readonly write: boolean;
  readonly bytes: number;
  readonly depth: number;
  readonly count: number;
}

function rows(scale: number): Row[] {
  return [
    { name: '4 KiB write QD32', write: true, bytes: 4096, depth: 32, count: 20000 * scale },
    { name: '4 KiB read QD32', write: false, bytes: 4096, depth: 32, count: 20000 * scale },
    { name: '4 KiB write QD1', write: true, bytes: 4096, depth: 1, count: 5000 * scale },
    { name: '4 KiB read QD1', write: false, bytes: 4096, depth: 1, count: 5000 * scale },
    { name: '1 MiB write QD8', write: true, bytes: 1 << 20, depth: 8, count: 200 * scale },
    { name: '1 MiB read QD8', write: false, bytes: 1 << 20, depth: 8, count: 200 * scale },
  ];
}

function exec(cmd: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 24 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout + stderr)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startTgt(file: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  // tgtd's control "port" names its socket; tgtadm refuses -C above 32767.
  const control = 20000 + (process.pid % 12000);
  const child = spawn('tgtd', ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const adm = (...a: string[]) => exec('tgtadm', ['-C', String(control), '--lld', 'iscsi', ...a]);
  for (let i = 0; ; i++) {
    try {
      await adm('--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', 'iqn.2026-11.io.shorthorn.bench:tgt');
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 100)); // tgtd has no readiness signal: poll its control socket
    }
  }
  await adm('--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', '1', '--backing-store', file);
  await adm('--mode', 'target', '--op', 'bind', '--tid', '1', '--initiator-address', 'ALL');
  return { url: `iscsi://127.0.0.1:${port}/iqn.2026-11.io.shorthorn.bench:tgt/1`, child };
}

async function startShorthorn(file: string): Promise<{ url: string; child: ChildProcess }> {
  const bin = join(here, '..', 'bin', 'shorthorn.mjs');
  const child = spawn(process.execPath, [bin, 'target', 'serve', '--file', file, '--size', String(SIZE), '--listen', '127.0.0.1:0', '--volume', 'bench'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SHORTHORN_LOG_LEVEL: 'warn' },
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`target serve exited ${c}`)));
  });
  const { portal, iqn } = JSON.parse(line) as { portal: string; iqn: string };
  return { url: `iscsi://${portal}/${iqn}/0`, child };
}

/** Starts a `shorthorn` subcommand and resolves with the JSON line it prints once ready. */
async function startShorthornProcess(args: string[]): Promise<{ line: Record<string, string>; child: ChildProcess }> {
  const bin = join(here, '..', 'bin', 'shorthorn.mjs');
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SHORTHORN_LOG_LEVEL: 'warn' } });
  const text = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`shorthorn ${args.slice(0, 2).join(' ')} exited ${c}`)));
  });
  return { line: JSON.parse(text) as Record<string, string>, child };
}

/** Three `replica serve` processes and an `engine serve --frontend iscsi` over them. */
async function startReplicatedVolume(dir: string, children: ChildProcess[]): Promise<string> {
  const secret = join(dir, 'secret');
  writeFileSync(secret, 'bench-volume-secret-0123456789abcdef\n');
  const addrs: string[] = [];
  for (const n of [1, 2, 3]) {
    const r = await startShorthornProcess(['replica', 'serve', '--dir', join(dir, `replica-${n}`), '--size', String(SIZE), '--listen', '127.0.0.1:0', '--secret-file', secret]);
    children.push(r.child);
    addrs.push(r.line.listening as string);
  }
  const e = await startShorthornProcess(['engine', 'serve', '--volume', 'bench3', '--size', String(SIZE), ...addrs.flatMap((a) => ['--replica', a]), '--secret-file', secret, '--control', '127.0.0.1:0', '--frontend', 'iscsi', '--listen', '127.0.0.1:0']);
  children.push(e.child);
  return `iscsi://${e.line.portal}/${e.line.iqn}/0`;
}

async function bench(url: string, r: Row): Promise<number> {
  const args = ['bench', '-f', 'raw', '-c', String(r.count), '-d', String(r.depth), '-s', String(r.bytes), ...(r.write ? ['-w'] : []), url];
  const out = await exec('qemu-img', args);
  const m = /Run completed in ([\d.]+) seconds/.exec(out);
  if (m === null) throw new Error(`qemu-img bench printed no time: ${out}`);
  return Number(m[1]);
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Runs the benchmark. */
export async function run(args: string[]): Promise<void> {
  const scaleArg = args.indexOf('--scale');
  const scale = scaleArg >= 0 ? Math.max(1, Number(args[scaleArg + 1])) : 1;
  const roundsArg = args.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Math.max(1, Number(args[roundsArg + 1])) : 3;
  const dir = mkdtempSync(join(tmpdir(), 'shorthorn-bench-iscsi-'));
  const children: ChildProcess[] = [];
  try {
    const content = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i += 4096) content.writeUInt32BE(i / 4096, i);
    const tgtFile = join(dir, 'tgt.img');
    const shFile = join(dir, 'shorthorn.img');
    writeFileSync(tgtFile, content);
    writeFileSync(shFile, content);
    const tgt = await startTgt(tgtFile);
    children.push(tgt.child);
    const sh = await startShorthorn(shFile);
    children.push(sh.child);
    const version = (await exec('tgtd', ['-V']).catch(() => 'tgtd')).trim();
    process.stdout.write(`iSCSI benchmark: qemu-img bench over loopback, tgtd ${version} (file backing store) vs shorthorn target serve; scale ${scale}, best of ${rounds}\n`);
    // Warm both up (connection setup, page cache, JIT).
    for (const u of [tgt.url, sh.url]) await bench(u, { name: 'warm-up', write: false, bytes: 65536, depth: 8, count: 2000 });
    const lines: string[] = ['| row | tgt IOPS | tgt MiB/s | Shorthorn IOPS | Shorthorn MiB/s | ratio |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
    process.stdout.write(lines.join('\n') + '\n');
    const tgtIops: number[] = [];
    for (const r of rows(scale)) {
      // Best of `rounds`, alternating targets: the machine is shared, and the best run is the
      // one least disturbed by other load.
      let tT = Infinity;
      let tS = Infinity;
      for (let i = 0; i < rounds; i++) {
        tT = Math.min(tT, await bench(tgt.url, r));
        tS = Math.min(tS, await bench(sh.url, r));
      }
      const iopsT = r.count / tT;
      const iopsS = r.count / tS;
      tgtIops.push(iopsT);
      const line = `| ${r.name} | ${fmt(iopsT)} | ${fmt((iopsT * r.bytes) / 1048576, 1)} | ${fmt(iopsS)} | ${fmt((iopsS * r.bytes) / 1048576, 1)} | ${fmt(iopsS / iopsT, 2)} |`;
      lines.push(line);
      process.stdout.write(line + '\n');
    }
    if (!args.includes('--no-replicas')) {
      const url3 = await startReplicatedVolume(dir, children);
      await bench(url3, { name: 'warm-up', write: true, bytes: 65536, depth: 8, count: 2000 });
      const head3 = ['', `3-replica Shorthorn volume (\`shorthorn engine serve --frontend iscsi\` over three \`replica serve\` on this machine) against the same tgtd figures:`, '', '| row | tgt IOPS | 3-replica IOPS | 3-replica MiB/s | ratio |', '| --- | ---: | ---: | ---: | ---: |'];
      lines.push(...head3);
      process.stdout.write(head3.join('\n') + '\n');
      for (const [i, r] of rows(scale).entries()) {
        let t3 = Infinity;
        for (let k = 0; k < rounds; k++) t3 = Math.min(t3, await bench(url3, r));
        const iops3 = r.count / t3;
        const iopsT = tgtIops[i] as number;
        const line = `| ${r.name} | ${fmt(iopsT)} | ${fmt(iops3)} | ${fmt((iops3 * r.bytes) / 1048576, 1)} | ${fmt(iops3 / iopsT, 2)} |`;
        lines.push(line);
        process.stdout.write(line + '\n');
      }
    }
    record(lines, scale, rounds);
  } finally {
    // Newest first, each gone before the next: the engine stops before its replicas, so it does not
    // log them as lost. NOTE: tgtd -f ignores SIGTERM while it has a target; SIGKILL is the only sure stop.
    for (const c of [...children].reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const gone = new Promise((resolve) => c.once('exit', resolve));
      c.kill(c.spawnfile === 'tgtd' ? 'SIGKILL' : 'SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function record(table: string[], scale: number, rounds: number): void {
  const readme = join(here, 'README.md');
  const head = existsSync(readme) ? readFileSync(readme, 'utf8') : '# Benchmarks\n';
  const section = [
    '## iscsi',
    '',
    `\`npm run bench -- iscsi${scale > 1 ? ` --scale ${scale}` : ''}${rounds !== 3 ? ` --rounds ${rounds}` : ''}\`: Debian's tgtd 1.0.85 (file backing store, its default 16 I/O threads) and`,
    '`shorthorn target serve`, each on an identical 256 MiB file in the page cache, both driven by',
    '`qemu-img bench` (libiscsi inside QEMU) over 127.0.0.1 on the same 2 shared cores, sequential offsets.',
    `Each figure is the best of ${rounds} runs, alternating the two targets (the machine is shared with other work);`,
    'ratio = Shorthorn IOPS / tgt IOPS (≥ 1.0 is the goal for a single file).',
    '',
    ...table,
    '',
  ].join('\n');
  const re = /## iscsi\n[\s\S]*?(?=\n## |$)/;
  const next = re.test(head) ? head.replace(re, section.trimEnd() + '\n') : head.trimEnd() + '\n\n' + section;
  writeFileSync(readme, next);
}
