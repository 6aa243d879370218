import type { BlockDevice } from '../../../engine/block-device.ts';
import { readSector, stampSectors } from './sector-pattern.ts';

/**
 * A write load with a model: `depth` workers, each owning the 4 KiB blocks whose index is its own
 * modulo `depth` (so no two writes to a block are ever in flight at once and the last acked write
 * of each block is known), writing stamped sectors with increasing generations.
 */
export class PatternLoad {
  /** Block index → generation of the last acked write. */
  readonly model = new Map<number, number>();
  readonly errors: Error[] = [];
  writes = 0;
  private stopping = false;
  private gen: number;
  private running: Promise<void> | undefined;
  private progressWaiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(
    private readonly device: BlockDevice,
    readonly blocks: number,
    private readonly depth = 8,
    firstGen = 1,
  ) {
    this.gen = firstGen;
  }

  start(): this {
    this.running = Promise.all(Array.from({ length: this.depth }, (_, w) => this.worker(w))).then(() => undefined);
    return this;
  }

  private async worker(w: number): Promise<void> {
    const mine = Math.ceil((this.blocks - w) / this.depth);
    while (!this.stopping) {
      const b = w + this.depth * Math.floor(Math.random() * mine);
      const gen = this.gen++;
      try {
        await this.device.writeAt(b * 4096, stampSectors(b * 8, 8, gen));
        this.model.set(b, gen);
        this.writes++;
        this.progressWaiters = this.progressWaiters.filter((p) => (this.writes >= p.n ? (p.resolve(), false) : true));
      } catch (e) {
        this.errors.push(e as Error);
        return;
      }
    }
  }

  /** Resolves once `n` more writes have been acked. */
  more(n: number): Promise<void> {
    return new Promise((resolve) => this.progressWaiters.push({ n: this.writes + n, resolve }));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Mismatches between the model and a full image of the device (at most 10 described). */
  verify(image: Buffer): string[] {
    const bad: string[] = [];
    for (let b = 0; b < this.blocks && bad.length < 10; b++) {
      const want = this.model.get(b);
      for (let s = 0; s < 8; s++) {
        const st = readSector(image.subarray(b * 4096, b * 4096 + 4096), s, b * 8);
        const ok = want === undefined ? st.kind === 'zero' : st.kind === 'gen' && st.gen === want;
        if (!ok) {
          bad.push(`block ${b} sector ${s}: want ${want ?? 'zeros'}, got ${JSON.stringify(st)}`);
          break;
        }
      }
    }
    return bad;
  }
}

/** Reads a whole device in 1 MiB pieces. */
export async function readAll(device: BlockDevice): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let o = 0; o < device.sizeBytes; o += 1 << 20) parts.push(await device.readAt(o, Math.min(1 << 20, device.sizeBytes - o)));
  return Buffer.concat(parts);
}
