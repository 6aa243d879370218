import { createHmac, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Volume secrets without a secret in any object: every agent holds the same cluster secret (a file;
 * in Kubernetes a Secret mounted into the agent pods), and a volume's secret is
 * HMAC-SHA256(cluster secret, "shorthorn-volume:" + volume name). The engine and the replicas of a
 * volume, on whichever node, derive the same value; no object in the store carries it.
 */

/** Bytes of a new cluster secret. */
const CLUSTER_SECRET_BYTES = 32;

/**
 * Reads the cluster secret, creating it (exclusively, so that concurrent agents on one machine agree)
 * when the file does not exist. The file holds hex text.
 */
export async function ensureClusterSecret(path: string): Promise<Buffer> {
  try {
    return parseSecret(path, await fs.readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fs.mkdir(dirname(path), { recursive: true });
  const secret = randomBytes(CLUSTER_SECRET_BYTES);
  try {
    const fh = await fs.open(path, 'wx', 0o600);
    try {
      await fh.writeFile(secret.toString('hex') + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return parseSecret(path, await fs.readFile(path, 'utf8'));
  }
}

function parseSecret(path: string, text: string): Buffer {
  const hex = text.trim();
  if (!/^([0-9a-f]{2}){16,}$/.test(hex)) throw new Error(`${path}: expected at least 16 bytes of hex, got ${hex.length} characters`);
  return Buffer.from(hex, 'hex');
}

/** The secret of one volume, derived from the cluster secret (hex text, 64 characters). */
export function deriveVolumeSecret(clusterSecret: Buffer, volume: string): string {
  return createHmac('sha256', clusterSecret).update(`shorthorn-volume:${volume}`).digest('hex');
}

/** Writes (if needed) and returns the path of the volume's secret file under the agent's data root. */
export async function volumeSecretFile(dataRoot: string, clusterSecret: Buffer, volume: string): Promise<string> {
  const dir = join(dataRoot, 'secrets');
  const path = join(dir, `${volume}.secret`);
  const want = deriveVolumeSecret(clusterSecret, volume);
  try {
    if ((await fs.readFile(path, 'utf8')) === want) return path;
  } catch {
    // absent: written below
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  await fs.writeFile(tmp, want, { mode: 0o600 });
  await fs.rename(tmp, path);
  return path;
}
