import { statfs } from 'node:fs/promises';
import { writeSync } from 'node:fs';

/**
 * How large one pwrite into the page cache may be, per filesystem.
 *
 * NOTE: ext4 sizes a new page-cache folio by the length of the write that creates it (Linux 6.16
 * gave ext4 large folios), and its write_begin/write_end walk every buffer head of the folio a write
 * lands in, whatever the write's length. After a 1 MiB write has cached its range as one 1 MiB folio,
 * each later 4 KiB write there walks 256 buffer heads: measured here (kernel 6.18) a random 4 KiB
 * pwrite into a file written in 1 MiB pieces costs 4.4 µs of CPU against 2.4 µs when it was written
 * in 64 KiB pieces, and a replica under three-replica 4 KiB QD32 writes spent 46% of its CPU in
 * ext4_block_write_begin (`perf record -g`). Writing in pieces of at most 64 KiB keeps ext4's folios
 * at 16 buffer heads or fewer; the price is more syscalls for large writes (a 1 MiB overwrite
 * 65 → 138 µs of CPU on 6.18; on kernels without ext4 large folios only the extra syscalls).
 * Filesystems without buffer heads (XFS, btrfs, tmpfs) track large folios cheaply and write whole.
 * Only the replica's data files use it: `target serve --file` (tests, the iSCSI bench) writes whole,
 * where pieces cost its 1 MiB writes ~40% (`npm run bench -- iscsi`, 2,703 → 1,550 MiB/s).
 */
export const EXT4_WRITE_PIECE_BYTES = 64 * 1024;

/** statfs f_type of ext2/3/4 (linux/magic.h EXT4_SUPER_MAGIC). */
const EXT4_SUPER_MAGIC = 0xef53;

/** The largest single pwrite for files in directory `dir` (Infinity: write whole). */
export async function writePieceBytesFor(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.type === EXT4_SUPER_MAGIC ? EXT4_WRITE_PIECE_BYTES : Infinity;
  } catch {
    // statfs is only advice here: when it fails, the opening of the files themselves will say why.
    return Infinity;
  }
}

/** Writes all of buf[at, at+length) at `position`, in pwrites of at most `pieceBytes`; short writes are continued. */
export function pwriteAllSync(fd: number, buf: Buffer, at: number, length: number, position: number, pieceBytes: number): void {
  for (let done = 0; done < length; ) {
    done += writeSync(fd, buf, at + done, Math.min(pieceBytes, length - done), position + done);
  }
}
