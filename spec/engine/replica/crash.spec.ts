import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectReplica, type WireReplicaConnection } from '../../../engine/wire/client.ts';
import { crc32 } from '../../../engine/replica/crc32.ts';
import { startReplica } from './replica-process.ts';
import { prng } from '../../helpers/prng.ts';

/**
 * Crash consistency with a real `shorthorn replica serve` killed by SIGKILL at random moments while
 * a client keeps 32 writes (one in ten an UNMAP) in flight and flushes at random points. Every sector is stamped with its
 * LBA, a generation and a CRC. After each reopen: every write acknowledged before the last
 * acknowledged flush is there (or a newer one), no sector is torn, nothing unknown appears.
 */

const SECTOR = 512;
const SECTORS = 8192; // 4 MiB volume: 1024 blocks of 4 KiB, so writes often hit new blocks
const SECRET = 'crash-test-secret-0123456789abcdef';
const ITERATIONS = 8;
const QUEUE_DEPTH = 32;

function stamp(lba: number, gen: number): Buffer {
  const s = Buffer.allocUnsafe(SECTOR);
  s.writeUInt32BE(lba, 0);
  s.writeUInt32BE(gen, 4);
  for (let i = 8; i < SECTOR - 4; i += 4) s.writeUInt32BE((lba * 2654435761 + gen * 40503 + i) >>> 0, i);
  s.writeUInt32BE(crc32(s, 0, SECTOR - 4), SECTOR - 4);
  return s;
}

/** The generation a sector holds, 0 for zeros, or a description of what is wrong with it. */
function readStamp(s: Buffer, lba: number): number | string {
  if (s.every((b) => b === 0)) return 0;
  if (s.readUInt32BE(SECTOR - 4) !== crc32(s, 0, SECTOR - 4)) return 'torn or garbage (bad checksum)';
  if (s.readUInt32BE(0) !== lba) return `stamped for LBA ${s.readUInt32BE(0)}`;
  return s.readUInt32BE(4);
}


class Model {
  /** Newest generation acknowledged per LBA. */
  readonly acked = new Uint32Array(SECTORS);
  /** Generation that must be there (or newer) after a crash. */
  readonly durable = new Uint32Array(SECTORS);
  /** Every generation ever issued per LBA (acked or not), and whether it wrote zeros (an UNMAP). */
  readonly issued = Array.from({ length: SECTORS }, () => new Map<number, boolean>([[0, true]]));
  readonly busy = new Uint8Array(SECTORS);
  nextGen = 1;
}

async function verify(c: WireReplicaConnection, m: Model, seed: number): Promise<Uint32Array> {
  const seen = new Uint32Array(SECTORS);
  for (let at = 0; at < SECTORS; at += 2048) {
    const data = await c.readAt(at * SECTOR, 2048 * SECTOR);
    for (let i = 0; i < 2048; i++) {
      const lba = at + i;
      const g = readStamp(data.subarray(i * SECTOR, (i + 1) * SECTOR), lba);
      if (typeof g === 'string') assert.fail(`seed ${seed}: LBA ${lba} ${g}`);
      const durable = m.durable[lba]!;
      if (g === 0) {
        // Zeros: an UNMAP (or nothing) at or after the durable generation.
        let zeroGen = -1;
        for (const [gen, zero] of m.issued[lba]!) if (zero && gen >= durable) zeroGen = Math.max(zeroGen, gen);
        assert.ok(zeroGen >= 0, `seed ${seed}: LBA ${lba} reads zeros but lost flushed generation ${durable}`);
        seen[lba] = zeroGen;
        continue;
      }
      assert.ok(m.issued[lba]!.get(g) === false, `seed ${seed}: LBA ${lba} holds generation ${g}, never written there`);
      assert.ok(g >= durable, `seed ${seed}: LBA ${lba} lost flushed generation ${durable} (holds ${g})`);
      seen[lba] = g;
    }
  }
  return seen;
}

/** Runs writes (QD 32, no two in flight on one LBA) and random flushes until the connection dies. */
async function load(c: WireReplicaConnection, m: Model, rnd: () => number, onAck: (acks: number) => void): Promise<{ writes: number; flushes: number }> {
  let writes = 0;
  let flushes = 0;
  let dead = false;
  void c.closed.then(() => (dead = true));
  const worker = async () => {
    while (!dead) {
      if (rnd() < 0.04) {
        const snapshot = m.acked.slice();
        try {
          await c.flush();
        } catch {
          return;
        }
        for (let i = 0; i < SECTORS; i++) if (snapshot[i]! > m.durable[i]!) m.durable[i] = snapshot[i]!;
        flushes++;
        onAck(writes + flushes);
        continue;
      }
      const len = 1 + Math.floor(rnd() * 24);
      const lba = Math.floor(rnd() * (SECTORS - len));
      let free = true;
      for (let i = lba; i < lba + len; i++) if (m.busy[i]) free = false;
      if (!free) continue;
      const gen = m.nextGen++;
      const unmap = rnd() < 0.1;
      const parts: Buffer[] = [];
      for (let i = lba; i < lba + len; i++) {
        m.busy[i] = 1;
        m.issued[i]!.set(gen, unmap);
        if (!unmap) parts.push(stamp(i, gen));
      }
      try {
        if (unmap) await c.unmapAt(lba * SECTOR, len * SECTOR);
        else await c.writeAt(lba * SECTOR, Buffer.concat(parts));
        for (let i = lba; i < lba + len; i++) m.acked[i] = gen;
        writes++;
        onAck(writes + flushes);
      } catch {
        return;
      } finally {
        for (let i = lba; i < lba + len; i++) m.busy[i] = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: QUEUE_DEPTH }, worker));
  return { writes, flushes };
}

describe('replica crash consistency (real process, SIGKILL)', { timeout: 120_000 }, () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shorthorn-crash-'));
    await writeFile(join(root, 'secret'), SECRET);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(`keeps every write acknowledged before the last acknowledged flush and tears no sector, over ${ITERATIONS} kills`, async (t) => {
    const seed = Date.now() % 1_000_000;
    const rnd = prng(seed);
    const m = new Model();
    const dir = join(root, 'replica');
    let totalWrites = 0;
    let totalFlushes = 0;
    for (let it = 0; it < ITERATIONS; it++) {
      const p = await startReplica({ dir, size: String(SECTORS * SECTOR), secretFile: join(root, 'secret') });
      try {
        const c = await connectReplica({ host: p.host, port: p.port, secret: SECRET });
        const seen = await verify(c, m, seed);
        // What survived is made durable before new load: later crashes must keep it.
        await c.flush();
        m.durable.set(seen);
        m.acked.set(seen);
        // SIGKILL at a random point of the stream, whatever the machine's speed.
        const killAt = 100 + Math.floor(rnd() * 3000);
        const r = await load(c, m, rnd, (acks) => {
          if (acks === killAt) p.child.kill('SIGKILL');
        });
        totalWrites += r.writes;
        totalFlushes += r.flushes;
      } finally {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    const p = await startReplica({ dir, size: String(SECTORS * SECTOR), secretFile: join(root, 'secret') });
    try {
      const c = await connectReplica({ host: p.host, port: p.port, secret: SECRET });
      await verify(c, m, seed);
      const info = await c.info();
      assert.equal(info.dirty, true, 'a store reopened after SIGKILL reports dirty');
      c.close();
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
    }
    t.diagnostic(`seed ${seed}: ${ITERATIONS} SIGKILLs, ${totalWrites} writes and unmaps acknowledged, ${totalFlushes} flushes acknowledged`);
    assert.ok(totalWrites > 1000 && totalFlushes > 20, `too little load to mean anything: ${totalWrites} writes, ${totalFlushes} flushes (seed ${seed})`);
  });
});
