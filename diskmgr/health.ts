import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/** The file the probe writes, fsyncs and reads back at a disk's root. */
export const PROBE_FILE = '.shorthorn-probe';

/** The filesystem calls a probe makes; a test may pass one that hangs. */
export interface ProbeIo {
  writeSyncRead(file: string, data: Buffer): Promise<Buffer>;
}

/** The real probe I/O: open, write, fsync, close, read back. */
export const realProbeIo: ProbeIo = {
  async writeSyncRead(file, data) {
    const fh = await fs.open(file, 'w', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return fs.readFile(file);
  },
};

/** The outcome of one probe: healthy, or why not (`timedOut`: the disk did not answer at all). */
export type ProbeResult = { readonly ok: true; readonly elapsedMs: number } | { readonly ok: false; readonly message: string; readonly timedOut?: boolean };

/**
 * Probes a disk: a small write, fsync and read back, under a timeout. A hung filesystem is
 * reported after `timeoutMs` (the hung call itself stays in the thread pool; NOTE: a disk that
 * keeps hanging can hold up to one libuv thread per probe, so the monitor skips a disk whose
 * previous probe has not come back).
 */
export async function probeDisk(path: string, timeoutMs: number, io: ProbeIo = realProbeIo): Promise<ProbeResult> {
  const data = randomBytes(64);
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, message: `disk at ${path} did not answer a probe within ${timeoutMs} ms`, timedOut: true }), timeoutMs);
  });
  const probe = io.writeSyncRead(join(path, PROBE_FILE), data).then(
    (back): ProbeResult => (back.equals(data) ? { ok: true, elapsedMs: Date.now() - started } : { ok: false, message: `disk at ${path} returned different bytes than were written` }),
    (e: unknown): ProbeResult => ({ ok: false, message: `disk at ${path} failed a probe: ${(e as Error).message}` }),
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
