import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cluster, ROOT, spawnReady, type Child, type ReplicaProcess } from './harness.ts';
import { readSector } from './sector-pattern.ts';

/**
 * Crash consistency with real processes: the engine and a pattern writer run in a child process;
 * at random points the child and/or the replica processes are SIGKILLed. After a restart, every
 * replica the engine trusts must hold, for every sector, a generation at least that of the last
 * write acknowledged before the last acknowledged FLUSH, and no sector may be torn.
 */

const SIZE = 8 << 20;
const SECTORS = SIZE / 512;
const ITERATIONS = Number(process.env.SHORTHORN_CRASH_ITERATIONS ?? 9);
const GEN_STEP = 1_000_000;
const WRITER = join(ROOT, 'spec', 'engine', 'fault', 'crash-writer.ts');

type Scenario = 'engine' | 'everything' | 'replica-then-everything';
const SCENARIOS: readonly Scenario[] = ['engine', 'everything', 'replica-then-everything'];

/** What the acknowledged writes and flushes of the writer oblige the replicas to hold. */
class FlushModel {
  readonly required = new Float64Array(SECTORS);
  private pending: Array<readonly [number, number, number]> = [];
  private readonly snaps: Array<{ k: number; writes: Array<readonly [number, number, number]> }> = [];
  acks = 0;
  flushesAcked = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  line(l: string): void {
    const [tag, a, b, c] = l.split(' ');
    if (tag === 'A') {
      this.pending.push([Number(a), Number(b), Number(c)]);
      this.acks++;
      this.waiters = this.waiters.filter((w) => (this.acks >= w.n ? (w.resolve(), false) : true));
    } else if (tag === 'S') {
      this.snaps.push({ k: Number(a), writes: this.pending });
      this.pending = [];
    } else if (tag === 'F') {
      const i = this.snaps.findIndex((s) => s.k === Number(a));
      for (const s of this.snaps.splice(0, i + 1)) for (const [lba, n, g] of s.writes) for (let x = lba; x < lba + n; x++) this.required[x] = Math.max(this.required[x] as number, g);
      this.flushesAcked++;
    }
  }

  /** Writes not yet covered by an acknowledged flush are no longer tracked once a writer is gone. */
  reset(): void {
    this.pending = [];
    this.snaps.length = 0;
  }

  moreAcks(n: number, exited: Promise<unknown>): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => this.waiters.push({ n: this.acks + n, resolve })), exited.then(() => undefined)]);
  }
}

function verifyImage(image: Buffer, model: FlushModel, genLimit: number): string[] {
  const bad: string[] = [];
  for (let s = 0; s < SECTORS && bad.length < 5; s++) {
    const st = readSector(image, s, 0);
    if (st.kind === 'bad') bad.push(`sector ${s}: ${st.why}`);
    else {
      const gen = st.kind === 'zero' ? 0 : st.gen;
      if (gen < (model.required[s] as number)) bad.push(`sector ${s}: generation ${gen} is older than the flushed ${model.required[s]}`);
      if (gen >= genLimit) bad.push(`sector ${s}: generation ${gen} was never written`);
    }
  }
  return bad;
}

describe('crash consistency (SIGKILL of engine and replicas)', { timeout: 240_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.create(SIZE);
  });
  after(async () => cluster.cleanup());

  it(`keeps every write acknowledged before the last acknowledged flush, untorn, over ${ITERATIONS} crashes`, async () => {
    const replicas = await cluster.addReplicas(2);
    const model = new FlushModel();
    let flushesChecked = 0;
    for (let iter = 0; iter < ITERATIONS; iter++) {
      const scenario = SCENARIOS[iter % SCENARIOS.length] as Scenario;
      const firstGen = (iter + 1) * GEN_STEP;
      const writer: Child = await spawnReady([String(SIZE), cluster.secret, String(firstGen), ...replicas.map((r) => r.address)], { script: WRITER, onLine: (l) => model.line(l) });
      cluster.children.push(writer);
      await model.moreAcks(30 + Math.floor(Math.random() * 300), writer.exited);
      const killed: ReplicaProcess[] = [];
      if (scenario === 'replica-then-everything') {
        const victim = replicas[Math.floor(Math.random() * replicas.length)] as ReplicaProcess;
        await victim.kill('SIGKILL');
        killed.push(victim);
        await model.moreAcks(50 + Math.floor(Math.random() * 100), writer.exited);
      }
      writer.proc.kill('SIGKILL');
      if (scenario !== 'engine') await Promise.all(replicas.filter((r) => !killed.includes(r)).map((r) => r.kill('SIGKILL')));
      await writer.exited;
      model.reset();
      await Promise.all(replicas.map((r) => (r.running ? undefined : r.start())));
      const engine = await cluster.engine(replicas);
      await new Promise<void>((resolve) => {
        const done = () => engine.replicas.every((h) => h.mode !== 'WO');
        if (done()) return resolve();
        const check = () => done() && (engine.events.off('mode', check), resolve());
        engine.events.on('mode', check);
      });
      assert.deepEqual(
        replicas.map((r) => engine.find(r.address)?.mode),
        replicas.map(() => 'RW'),
        `iteration ${iter} (${scenario}): not every replica came back RW`,
      );
      const images = await Promise.all(replicas.map(async (r) => (await cluster.contents(r)).data));
      for (const [i, data] of images.entries()) {
        assert.deepEqual(verifyImage(data, model, firstGen + GEN_STEP), [], `iteration ${iter} (${scenario}), replica ${replicas[i]?.address}`);
        assert.ok(data.equals(images[0] as Buffer), `iteration ${iter} (${scenario}): replicas differ after restart`);
      }
      flushesChecked = model.flushesAcked;
      await engine.close();
      cluster.engines.splice(cluster.engines.indexOf(engine), 1);
    }
    assert.ok(flushesChecked >= ITERATIONS, `only ${flushesChecked} flushes were acknowledged: the test checked too little`);
  });
});
