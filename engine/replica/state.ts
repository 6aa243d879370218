import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { crc32 } from './crc32.ts';
import { closeFd, datasync, openFd, pwriteFull } from './fs-io.ts';

/**
 * The state file: the revision counter and whether the store was closed cleanly, rewritten at every
 * flush. Two slots in separate 512-byte sectors, written alternately, each with a sequence number
 * and a checksum, so a write torn by a crash leaves the other slot valid.
 *
 *   slot (32 bytes): "SHSTATE1" | u64 seq | u64 revision | u32 flags (bit 0 clean) | u32 crc32(bytes 0..27)
 */
export const STATE_FILE = 'state.bin';
const MAGIC = Buffer.from('SHSTATE1', 'latin1');
const SLOT_BYTES = 512;
const FLAG_CLEAN = 1;

/** The persisted state. */
export interface ReplicaState {
  readonly revision: number;
  readonly clean: boolean;
}

function decodeSlot(raw: Buffer, at: number): { seq: number; state: ReplicaState } | null {
  if (raw.length < at + 32 || !raw.subarray(at, at + 8).equals(MAGIC)) return null;
  if (raw.readUInt32BE(at + 28) !== crc32(raw, at, at + 28)) return null;
  return { seq: Number(raw.readBigUInt64BE(at + 8)), state: { revision: Number(raw.readBigUInt64BE(at + 16)), clean: (raw.readUInt32BE(at + 24) & FLAG_CLEAN) !== 0 } };
}

/** Reads the newest valid slot; `null` when neither slot is valid or the file is missing. */
export async function readState(dir: string): Promise<{ seq: number; state: ReplicaState } | null> {
  let raw: Buffer;
  try {
    raw = await readFile(join(dir, STATE_FILE));
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  }
  const a = decodeSlot(raw, 0);
  const b = decodeSlot(raw, SLOT_BYTES);
  if (a === null) return b;
  if (b === null) return a;
  return a.seq >= b.seq ? a : b;
}

/** An open state file: `write` puts the next slot on disk, durably. Calls must not overlap. */
export class StateFile {
  private constructor(
    private readonly fd: number,
    private seq: number,
  ) {}

  /** Opens (creating if needed) the state file; `seq` is the newest slot's. */
  static async open(dir: string, seq: number): Promise<StateFile> {
    const path = join(dir, STATE_FILE);
    const fd = await openFd(path, 'r+').catch((e: { code?: string }) => {
      if (e.code !== 'ENOENT') throw e;
      return openFd(path, 'w+');
    });
    return new StateFile(fd, seq);
  }

  async write(state: ReplicaState): Promise<void> {
    const seq = this.seq + 1;
    const slot = Buffer.alloc(32);
    MAGIC.copy(slot, 0);
    slot.writeBigUInt64BE(BigInt(seq), 8);
    slot.writeBigUInt64BE(BigInt(state.revision), 16);
    slot.writeUInt32BE(state.clean ? FLAG_CLEAN : 0, 24);
    slot.writeUInt32BE(crc32(slot, 0, 28), 28);
    await pwriteFull(this.fd, slot, (seq % 2) * SLOT_BYTES);
    await datasync(this.fd);
    this.seq = seq;
  }

  async close(): Promise<void> {
    await closeFd(this.fd);
  }
}
