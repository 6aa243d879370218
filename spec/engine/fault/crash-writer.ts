/**
 * The engine and a pattern writer in one child process, for the crash test to SIGKILL. Usage:
 *   node --import tsx spec/engine/fault/crash-writer.ts SIZE SECRET FIRST_GEN ADDR...
 * Prints a ready line, then one line per event, in order:
 *   "A lba count gen"  a write was acknowledged
 *   "S k"              flush k is being issued (it covers every write acknowledged before this line)
 *   "F k"              flush k was acknowledged
 * Writes in flight never overlap, so each sector's last acknowledged generation is well defined.
 */
import { createLogger } from '../../../api/log.ts';
import { openEngine } from '../../../engine/controller/start.ts';
import { connectReplica } from '../../../engine/wire/client.ts';
import { stampSectors } from './sector-pattern.ts';

const [sizeArg, secret, firstGenArg, ...addresses] = process.argv.slice(2);
const sizeBytes = Number(sizeArg);
const sectors = sizeBytes / 512;
let gen = Number(firstGenArg);
const log = createLogger('crash-writer', { level: 'error' });
const engine = await openEngine(
  {
    volume: 'crash',
    sizeBytes,
    log,
    timeoutMs: 2000,
    connect: (a) => connectReplica({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)), secret: secret as string, timeoutMs: 2000 }),
  },
  addresses,
);
process.stdout.write(JSON.stringify({ ready: 'true' }) + '\n');

const inFlight = new Set<readonly [number, number]>();
let flushes = 0;

function pick(): readonly [number, number] {
  for (;;) {
    const count = 1 + Math.floor(Math.random() * 16);
    const lba = Math.floor(Math.random() * (sectors - count));
    const clash = [...inFlight].some(([a, n]) => a < lba + count && lba < a + n);
    if (!clash) return [lba, count] as const;
  }
}

async function worker(): Promise<void> {
  for (;;) {
    const r = pick();
    inFlight.add(r);
    const g = gen++;
    await engine.writeAt(r[0] * 512, stampSectors(r[0], r[1], g));
    inFlight.delete(r);
    process.stdout.write(`A ${r[0]} ${r[1]} ${g}\n`);
    if (Math.random() < 0.05) {
      const k = ++flushes;
      process.stdout.write(`S ${k}\n`);
      await engine.flush();
      process.stdout.write(`F ${k}\n`);
    }
  }
}

await Promise.all(Array.from({ length: 8 }, worker)).catch((e: unknown) => {
  process.stderr.write(`writer stopped: ${(e as Error).message}\n`);
  process.exit(3);
});
