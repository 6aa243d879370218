import { createLogger, type Logger } from '../../../api/log.ts';
import type { Engine, EngineOptions } from '../../../engine/controller/engine.ts';
import { openEngine } from '../../../engine/controller/start.ts';
import { MemoryCluster } from '../../helpers/memory-replica.ts';

/** Test fixtures for the engine over memory replicas. */

/** A logger that keeps its lines (for asserting on causes) instead of printing them. */
export function collectingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('engine-test', { sink: (l) => lines.push(l), level: 'debug' }), lines };
}

/** A memory cluster of `n` replicas named r1..rn and an engine over it. */
export async function memoryEngine(n: number, opts: Partial<EngineOptions> & { sizeBytes?: number } = {}): Promise<{ cluster: MemoryCluster; engine: Engine; addresses: string[]; lines: string[] }> {
  const sizeBytes = opts.sizeBytes ?? 8 << 20;
  const addresses = Array.from({ length: n }, (_, i) => `r${i + 1}`);
  const cluster = new MemoryCluster(sizeBytes, addresses);
  const { log, lines } = collectingLogger();
  const engine = await openEngine({ volume: 'v1', sizeBytes, connect: cluster.connect, log, timeoutMs: 1000, ...opts }, addresses);
  return { cluster, engine, addresses, lines };
}

/** Resolves when `pred` holds, re-checked on every engine mode or rebuild event. */
export function waitFor(engine: Engine, pred: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (pred()) return resolve();
    const check = () => {
      if (!pred()) return;
      engine.events.off('mode', check);
      engine.events.off('rebuild', check);
      resolve();
    };
    engine.events.on('mode', check);
    engine.events.on('rebuild', check);
  });
}

/** The mode of the replica at an address. */
export function modeOf(engine: Engine, address: string): string | undefined {
  return engine.find(address)?.mode;
}

/** A buffer of `sectors` sectors, each filled with a byte derived from `seed` and its index. */
export function pattern(sectors: number, seed: number): Buffer {
  const b = Buffer.alloc(sectors * 512);
  for (let i = 0; i < sectors; i++) b.fill((seed * 31 + i * 7 + 1) & 0xff, i * 512, (i + 1) * 512);
  return b;
}
