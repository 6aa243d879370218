import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as E from 'fp-ts/Either';
import { EXT4_WRITE_PIECE_BYTES, pwriteAllSync, writePieceBytesFor } from '../../../engine/io/write-pieces.ts';
import { openStore, describeStoreError } from '../../../engine/replica/store-open.ts';
import { createLogger } from '../../../api/log.ts';
import { prng } from '../../helpers/prng.ts';

/**
 * Page-cache writes in pieces on ext4 (engine/io/write-pieces.ts), on real filesystems: a small ext4
 * on a loop device and a tmpfs, both mounted here (root, as CI runs). How many write syscalls a call
 * made is read from /proc/self/io (syscw), before and after a synchronous write.
 */

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1 << 20;
const isRoot = process.getuid?.() === 0;
const quiet = createLogger('test', { sink: () => {} });

/** Write-like syscalls this process has made (proc(5): /proc/pid/io syscw). */
function writeSyscalls(): number {
  const m = /^syscw: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  if (m === null) throw new Error('/proc/self/io has no syscw line');
  return Number(m[1]);
}

function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) b.writeUInt32BE((seed * 2654435761 + i * 7) >>> 0, i);
  return b;
}

describe('page-cache writes in pieces', { timeout: 60_000 }, () => {
  let root = '';
  let ext4 = '';
  let tmpfs = '';

  before(async () => {
    // A test that cannot run says so and fails: a skipped test proves nothing (CI runs as root).
    if (!isRoot) throw new Error('this test needs root to mount a loop ext4 and a tmpfs (mount)');
    root = await mkdtemp(join(tmpdir(), 'shorthorn-pieces-'));
    ext4 = join(root, 'ext4');
    tmpfs = join(root, 'tmpfs');
    await mkdir(ext4);
    await mkdir(tmpfs);
    const img = join(root, 'ext4.img');
    await run('truncate', ['-s', '32M', img]);
    await run('mkfs.ext4', ['-q', '-F', img]);
    await run('mount', ['-o', 'loop', img, ext4]);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', tmpfs]);
  });
  after(async () => {
    for (const m of [ext4, tmpfs]) if (m !== '') await run('umount', [m]).catch(() => undefined);
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('writes in 64 KiB pieces on ext4 and whole elsewhere; a directory statfs cannot read writes whole', async () => {
    const cases: Array<[string, () => string, number]> = [
      ['ext4', () => ext4, EXT4_WRITE_PIECE_BYTES],
      ['tmpfs', () => tmpfs, Infinity],
      ['a missing directory', () => join(root, 'nope'), Infinity],
    ];
    for (const [name, dir, want] of cases) assert.equal(await writePieceBytesFor(dir()), want, name);
  });

  it('pwriteAllSync puts every byte where it belongs, whatever the piece size, offset in the buffer and length', () => {
    const next = prng(7);
    const int = (n: number) => Math.floor(next() * n);
    const path = join(tmpfs, 'bytes.img');
    const fd = openSync(path, 'w+');
    try {
      const shadow = Buffer.alloc(2 * MiB);
      for (let i = 0; i < 200; i++) {
        const length = 1 + int(256 * KiB);
        const at = int(64);
        const position = int(shadow.length - length);
        // Pieces of 1 byte only for short writes (a syscall a byte).
        const piece = length < 4096 ? ([1, 7, 512, Infinity][int(4)] as number) : ([512, 4096, 65536, Infinity][int(4)] as number);
        const src = pattern(at + length + 16, i);
        pwriteAllSync(fd, src, at, length, position, piece);
        src.copy(shadow, position, at, at + length);
      }
      const back = Buffer.alloc(shadow.length);
      readSync(fd, back, 0, back.length, 0);
      assert.ok(back.equals(shadow));
    } finally {
      closeSync(fd);
    }
  });

  it('makes one pwrite per piece: a 1 MiB write is 16 syscalls in 64 KiB pieces, 1 whole', () => {
    const fd = openSync(join(tmpfs, 'count.img'), 'w+');
    try {
      const data = pattern(MiB, 1);
      const cases: Array<[number, number]> = [
        [EXT4_WRITE_PIECE_BYTES, 16],
        [Infinity, 1],
        [300 * KiB, 4],
      ];
      for (const [piece, want] of cases) {
        const before = writeSyscalls();
        pwriteAllSync(fd, data, 0, data.length, 0, piece);
        assert.equal(writeSyscalls() - before, want, `pieces of ${piece}`);
      }
    } finally {
      closeSync(fd);
    }
  });

  it('a replica on ext4 writes a 1 MiB block in 64 KiB pieces and reads it back; on tmpfs in one pwrite', async () => {
    for (const [dir, want] of [
      [join(ext4, 'replica'), 16],
      [join(tmpfs, 'replica'), 1],
    ] as const) {
      const r = await openStore({ dir, sizeBytes: 8 * MiB, log: quiet });
      if (E.isLeft(r)) throw new Error(describeStoreError(r.left));
      const store = r.right;
      try {
        const data = pattern(MiB, 2);
        await store.write(MiB, pattern(MiB, 9));
        // The data pwrites happen synchronously inside write(); count them before anything else runs.
        const before = writeSyscalls();
        const done = store.write(MiB, data);
        const made = writeSyscalls() - before;
        await done;
        assert.equal(made, want, dir);
        assert.ok((await store.read(MiB, MiB)).equals(data));
      } finally {
        await store.close();
      }
    }
  });
});
