import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllocLog, LOG_RECORD_BYTES, createLog, replayLog } from '../../../engine/replica/alloc-log.ts';
import { AllocationMap } from '../../../engine/replica/allocation-map.ts';

const BLOCKS = 1000;

describe('allocation log', () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shorthorn-alog-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A log holding: allocate 10+5, allocate 100+1, free 12+2. */
  async function sample(): Promise<string> {
    const path = join(root, `l${n++}.alloc`);
    await createLog(path, 4096);
    const log = await AllocLog.open(path, 4096, 0);
    await log.append([['allocate', [{ start: 10, count: 5 }, { start: 100, count: 1 }]]]);
    await log.append([['free', [{ start: 12, count: 2 }]]]);
    await log.close();
    return path;
  }

  function blocks(m: AllocationMap): number[] {
    return [...m.runs()].flatMap((r) => Array.from({ length: r.count }, (_, i) => r.start + i));
  }

  const tails = [
    { name: 'a clean log', mangle: async (_: string) => {}, records: 3, dropped: 0 },
    { name: 'half a record at the end', mangle: (p: string) => appendFile(p, Buffer.alloc(7, 1)), records: 3, dropped: 7 },
    {
      name: 'a last record with a bad checksum',
      mangle: async (p: string) => {
        const raw = await readFile(p);
        raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 1, raw.length - 1);
        await writeFile(p, raw);
      },
      records: 2,
      dropped: LOG_RECORD_BYTES,
    },
  ];
  for (const c of tails) {
    it(`replays ${c.name} and cuts what is torn`, async () => {
      const path = await sample();
      await c.mangle(path);
      const r = await replayLog(path, 4096, BLOCKS);
      assert.ok(!('_tag' in r));
      assert.equal(r.records, c.records);
      assert.equal(r.droppedBytes, c.dropped);
      assert.deepEqual(blocks(r.map), c.records === 3 ? [10, 11, 14, 100] : [10, 11, 12, 13, 14, 100]);
      assert.equal((await stat(path)).size, LOG_RECORD_BYTES * (1 + c.records));
    });
  }

  const corrupt = [
    { name: 'a bad header', bytes: Buffer.alloc(16), blockBytes: 4096, match: /bad header/ },
    { name: 'another block size', bytes: null, blockBytes: 512, match: /block size 4096/ },
  ];
  for (const c of corrupt) {
    it(`refuses ${c.name}`, async () => {
      const path = await sample();
      if (c.bytes !== null) await writeFile(path, c.bytes);
      const r = await replayLog(path, c.blockBytes, BLOCKS);
      assert.ok('_tag' in r);
      assert.match(r.detail, c.match);
    });
  }

  it('stops at a record that points past the volume', async () => {
    const path = await sample();
    const r = await replayLog(path, 4096, 50);
    assert.ok(!('_tag' in r));
    assert.equal(r.records, 1);
  });
});
