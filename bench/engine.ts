/**
 * `npm run bench -- engine [--seconds N] [--size SIZE]`: the engine's BlockDevice over 1 and 3 local
 * replica processes (real wire), against a plain file through fs FileHandle as the anchor, in the
 * same run. 4 KiB random write and read at QD1 and QD32 (IOPS, p50/p99), 1 MiB sequential write and
 * read at QD4 (MiB/s). Prints a table and the ratios the issue sets goals for, and the same ratios
 * for the bare wire client (bareWire): what the machine gives the 3-vs-1 goals when the engine costs
 * nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/Either';
import { createLogger } from '../api/log.ts';
import { parseBytes } from '../api/quantity.ts';
import type { BlockDevice } from '../engine/block-device.ts';
import { openEngine } from '../engine/controller/start.ts';
import { connectReplica } from '../engine/wire/client.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KiB = 1024;
const MiB = 1 << 20;

interface Job {
  readonly name: string;
  readonly write: boolean;
  readonly blockBytes: number;
  readonly depth: number;
  readonly sequential: boolean;
}

const JOBS: readonly Job[] = [
  { name: '1M seq write', write: true, blockBytes: MiB, depth: 4, sequential: true },
  { name: '4K rand write', write: true, blockBytes: 4 * KiB, depth: 1, sequential: false },
  { name: '4K rand write', write: true, blockBytes: 4 * KiB, depth: 32, sequential: false },
  { name: '4K rand read', write: false, blockBytes: 4 * KiB, depth: 1, sequential: false },
  { name: '4K rand read', write: false, blockBytes: 4 * KiB, depth: 32, sequential: false },
  { name: '1M seq read', write: false, blockBytes: MiB, depth: 4, sequential: true },
];

/** The jobs of the bare wire anchor (the goals' QD32 rows). */
const BARE_WRITE: Job = { name: '4K rand write', write: true, blockBytes: 4 * KiB, depth: 32, sequential: false };
const BARE_READ: Job = { ...BARE_WRITE, name: '4K rand read', write: false };

interface Result {
  readonly iops: number;
  readonly mibps: number;
  readonly p50us: number;
  readonly p99us: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

/** Runs one job for `seconds` (sequential jobs also stop after one pass over the device). */
async function runJob(dev: BlockDevice, job: Job, seconds: number): Promise<Result> {
  const slots = dev.sizeBytes / job.blockBytes;
  const payload = Buffer.alloc(job.blockBytes, 0x5a);
  const lat: number[] = [];
  let next = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      let slot: number;
      if (job.sequential) {
        if (next >= slots) return;
        slot = next++;
      } else slot = Math.floor(Math.random() * slots);
      const t0 = performance.now();
      if (job.write) await dev.writeAt(slot * job.blockBytes, payload);
      else await dev.readAt(slot * job.blockBytes, job.blockBytes);
      lat.push(performance.now() - t0);
      done++;
    }
  };
  await Promise.all(Array.from({ length: job.depth }, worker));
  const secs = (performance.now() - start) / 1000;
  const sorted = Float64Array.from(lat).sort();
  return { iops: done / secs, mibps: (done * job.blockBytes) / MiB / secs, p50us: percentile(sorted, 0.5) * 1000, p99us: percentile(sorted, 0.99) * 1000 };
}

/**
 * The 3-vs-1 ratios with no engine cost, as anchors for the goals: the replica processes behind the
 * wire client alone, as a BlockDevice for runJob. A write goes to every replica (`Promise.all` of
 * `writeAt`), a read to the next replica in turn; no replica handles, range lock, dirty-region
 * records, metrics or modes.
 */
async function bareWire(addresses: readonly string[], secret: string, sizeBytes: number): Promise<BlockDevice & { close(): void }> {
  const conns = await Promise.all(addresses.map((a) => connectReplica({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)), secret })));
  let turn = 0;
  return {
    sizeBytes,
    blockSizeBytes: 512,
    readAt: (o, n) => (conns[turn++ % conns.length] as (typeof conns)[number]).readAt(o, n),
    writeAt: async (o, d) => void (await Promise.all(conns.map((c) => c.writeAt(o, d)))),
    unmapAt: async () => undefined,
    flush: async () => void (await Promise.all(conns.map((c) => c.flush()))),
    close: () => conns.forEach((c) => c.close()),
  };
}

/** Writes the whole device once (untimed), so every job runs on allocated blocks everywhere. */
async function prefill(dev: BlockDevice): Promise<void> {
  const chunk = Buffer.alloc(MiB, 0x11);
  let next = 0;
  const worker = async () => {
    while (next * MiB < dev.sizeBytes) await dev.writeAt(next++ * MiB, chunk);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await dev.flush();
}

/** A plain file as a BlockDevice (the anchor). */
async function fileDevice(path: string, sizeBytes: number): Promise<BlockDevice & { close(): Promise<void> }> {
  const fh = await open(path, 'w+');
  await fh.truncate(sizeBytes);
  return {
    sizeBytes,
    blockSizeBytes: 512,
    readAt: async (o, n) => {
      const b = Buffer.allocUnsafe(n);
      await fh.read(b, 0, n, o);
      return b;
    },
    writeAt: async (o, d) => void (await fh.write(d, 0, d.length, o)),
    unmapAt: async () => undefined,
    flush: () => fh.sync(),
    close: () => fh.close(),
  };
}

async function startReplica(dir: string, sizeBytes: number, secretFile: string): Promise<{ address: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'shorthorn.mjs'), 'replica', 'serve', '--dir', dir, '--size', String(sizeBytes), '--listen', '127.0.0.1:0', '--secret-file', secretFile], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, SHORTHORN_LOG_LEVEL: 'warn' } });
  const [line] = (await once(createInterface({ input: proc.stdout! }), 'line')) as [string];
  return { address: (JSON.parse(line) as { listening: string }).listening, proc };
}

function parseArgs(args: string[]): { seconds: number; sizeBytes: number } {
  let seconds = 3;
  let sizeBytes = 128 * MiB;
  for (let i = 0; i < args.length; i += 2) {
    const v = args[i + 1] ?? '';
    if (args[i] === '--seconds') seconds = Number(v);
    else if (args[i] === '--size') {
      const b = parseBytes(v);
      if (E.isLeft(b)) throw new Error(`--size: ${b.left}`);
      sizeBytes = b.right;
    } else throw new Error(`unknown argument ${args[i]} (use --seconds N, --size SIZE)`);
  }
  return { seconds, sizeBytes };
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
}

/**
 * Delta vs full rebuild of the same volume: 3 replicas, the volume filled; r3 is SIGKILLed, 4 MiB of
 * random 4 KiB writes land in a 16 MiB area, r3 comes back (delta); then an empty replica joins (full).
 */
async function rebuildBench(dir: string, sizeBytes: number, secretFile: string, secret: string, log: ReturnType<typeof createLogger>, procs: ChildProcess[]): Promise<string[]> {
  const { addReplica } = await import('../engine/controller/membership.ts');
  const start = (name: string) => startReplica(join(dir, name), sizeBytes, secretFile).then((r) => (procs.push(r.proc), r));
  const reps = await Promise.all(['rb-r1', 'rb-r2', 'rb-r3'].map(start));
  const connect = (a: string) => connectReplica({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)), secret });
  const engine = await openEngine({ volume: 'bench-rebuild', sizeBytes, connect, log }, reps.map((r) => r.address));
  await prefill(engine);
  const r3 = reps[2] as { address: string; proc: ChildProcess };
  r3.proc.kill('SIGKILL');
  await once(r3.proc, 'exit');
  const page = Buffer.alloc(4 * KiB, 0x77);
  for (let i = 0; i < 1024; i++) await engine.writeAt(Math.floor(Math.random() * 4096) * 4 * KiB, page);
  await engine.flush();
  const back = await startReplica(join(dir, 'rb-r3'), sizeBytes, secretFile);
  procs.push(back.proc);
  const lines: string[] = [];
  for (const [label, address] of [
    ['returning replica', back.address],
    ['empty replica', (await start('rb-r4')).address],
  ] as const) {
    const t0 = performance.now();
    const r = await addReplica(engine, address);
    if (E.isLeft(r)) throw new Error(`add-replica ${address}: ${r.left._tag}`);
    await r.right.done;
    const ms = performance.now() - t0;
    const p = engine.find(address)?.rebuild;
    lines.push(`${r.right.kind.padEnd(5)} rebuild of a ${sizeBytes / MiB} MiB volume onto the ${label}: ${((p?.totalBytes ?? 0) / MiB).toFixed(1)} MiB copied in ${(ms / 1000).toFixed(2)} s`);
  }
  await engine.close();
  return lines;
}

/** Entry point for bench/main.ts. */
export async function run(args: string[]): Promise<void> {
  const { seconds, sizeBytes } = parseArgs(args);
  const dir = await mkdtemp(join(tmpdir(), 'shorthorn-bench-engine-'));
  const secret = 'bench-secret-0123456789abcdef';
  const secretFile = join(dir, 'secret');
  await writeFile(secretFile, secret);
  const procs: ChildProcess[] = [];
  const results = new Map<string, Result[]>();
  const bare = new Map<number, { write: number; read: number }>();
  const rebuildLines: string[] = [];
  const log = createLogger('bench', { level: 'error' });
  process.stderr.write(`engine bench: ${seconds}s per job, ${sizeBytes / MiB} MiB volume (prefilled), replicas on ${dir}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  try {
    const file = await fileDevice(join(dir, 'anchor.img'), sizeBytes);
    const fileRes: Result[] = [];
    await prefill(file);
    for (const j of JOBS) fileRes.push(await runJob(file, j, seconds));
    await file.close();
    results.set('file', fileRes);
    for (const n of [1, 3]) {
      const reps = await Promise.all(Array.from({ length: n }, (_, i) => startReplica(join(dir, `n${n}-r${i}`), sizeBytes, secretFile)));
      procs.push(...reps.map((r) => r.proc));
      const connect = (a: string) => connectReplica({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)), secret });
      const engine = await openEngine({ volume: 'bench', sizeBytes, connect, log }, reps.map((r) => r.address));
      const res: Result[] = [];
      await prefill(engine);
      for (const j of JOBS) {
        res.push(await runJob(engine, j, seconds));
        if (j.write) await engine.flush();
      }
      results.set(`engine ×${n}`, res);
      await engine.close();
      const addresses = reps.map((r) => r.address);
      const wire = await bareWire(addresses, secret, sizeBytes);
      try {
        bare.set(n, { write: (await runJob(wire, BARE_WRITE, seconds)).iops, read: (await runJob(wire, BARE_READ, seconds)).iops });
        await wire.flush();
      } finally {
        wire.close();
      }
      for (const r of reps) r.proc.kill('SIGTERM');
      await Promise.all(reps.map((r) => once(r.proc, 'exit')));
    }
    rebuildLines.push(...(await rebuildBench(dir, sizeBytes, secretFile, secret, log, procs)));
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
  const widths = [10, 14, 4, 9, 8, 9, 9, 7];
  const lines = [row(['target', 'job', 'QD', 'IOPS', 'MiB/s', 'p50 µs', 'p99 µs', '×file'], widths)];
  const file = results.get('file') as Result[];
  for (const [target, res] of results) {
    res.forEach((r, i) => {
      const j = JOBS[i] as Job;
      const ratio = r.iops / (file[i] as Result).iops;
      lines.push(row([target, j.name, String(j.depth), r.iops.toFixed(0), r.mibps.toFixed(1), r.p50us.toFixed(0), r.p99us.toFixed(0), ratio.toFixed(2)], widths));
    });
  }
  const one = results.get('engine ×1') as Result[];
  const three = results.get('engine ×3') as Result[];
  const goal = (i: number) => ((three[i] as Result).iops / (one[i] as Result).iops).toFixed(2);
  lines.push('');
  lines.push(`3 vs 1 replica, 4K rand write IOPS: QD1 ${goal(1)}, QD32 ${goal(2)} (goal ≥ 0.5)`);
  lines.push(`3 vs 1 replica, 4K rand read IOPS:  QD1 ${goal(3)}, QD32 ${goal(4)} (goal ≥ 1.0)`);
  const b1 = bare.get(1) as { write: number; read: number };
  const b3 = bare.get(3) as { write: number; read: number };
  lines.push(`bare wire client, no engine logic, same replicas, 4K rand QD32: write 1 replica ${b1.write.toFixed(0)}, 3 replicas ${b3.write.toFixed(0)} IOPS, 3 vs 1 ${(b3.write / b1.write).toFixed(2)}; read (in turn) ${b1.read.toFixed(0)}, ${b3.read.toFixed(0)}, 3 vs 1 ${(b3.read / b1.read).toFixed(2)}`);
  lines.push('', ...rebuildLines);
  lines.push(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${availableParallelism()} CPUs)`);
  process.stdout.write(lines.join('\n') + '\n');
}
