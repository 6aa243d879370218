import { promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { FINALIZER } from '../../api/codecs/meta.ts';
import type { Replica, ReplicaStatus } from '../../api/codecs/replica.ts';
import { quantityBytes } from '../../api/quantity.ts';
import { isStoreError } from '../../api/store/errors.ts';
import { IDENTITY_FILE } from '../../diskmgr/identity.ts';
import { statusDelta, type InstanceDeps } from './deps.ts';
import { volumeSecretFile } from './secret.ts';
import type { ChildView } from './supervisor.ts';

/** The supervisor key of a Replica's process. */
export function replicaKey(name: string): string {
  return `replica/${name}`;
}

/** Where a replica keeps its data: `<diskPath>/replicas/<dataDirectoryName>`. */
export function replicaDataDir(r: Replica): string {
  return join(r.spec.diskPath, 'replicas', r.spec.dataDirectoryName);
}

/** A data directory name that stays inside `<disk>/replicas/` (no '', '.', '..' or '/'). */
export function isSafeDataDirectoryName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(name) && name !== '.' && name !== '..';
}

/** Is `dir` a replica data directory, `<something>/replicas/<safe name>` (never a disk or its parent)? */
function isReplicaDir(dir: string): boolean {
  return basename(dirname(dir)) === 'replicas' && isSafeDataDirectoryName(basename(dir)) && resolve(dir) === dir.replace(/\/+$/, '');
}

function statusOf(view: ChildView | undefined, stoppedMessage?: string): ReplicaStatus {
  if (view === undefined) return { currentState: stoppedMessage === undefined ? 'stopped' : 'error', address: undefined, pid: undefined, message: stoppedMessage ?? '' } as ReplicaStatus;
  switch (view.phase) {
    case 'running':
      return { currentState: 'running', address: String(view.ready?.listening ?? ''), pid: view.pid, message: '' };
    case 'starting':
      return { currentState: 'starting', address: undefined, pid: view.pid, message: '' } as ReplicaStatus;
    case 'backoff':
      return { currentState: 'error', address: undefined, pid: undefined, message: view.message ?? 'failed' } as ReplicaStatus;
  }
}

async function writeStatus(deps: InstanceDeps, r: Replica, next: ReplicaStatus): Promise<void> {
  const delta = statusDelta(r.status as Record<string, unknown> | undefined, next as Record<string, unknown>);
  if (delta === undefined) return;
  try {
    await deps.store.patch('Replica', r.metadata.name, { type: 'merge', value: { status: delta } }, { subresource: 'status' });
  } catch (e) {
    if (!isStoreError(e, 'NotFound')) throw e;
  }
}

async function removeDataDir(deps: InstanceDeps, dir: string | undefined, name: string): Promise<void> {
  if (dir === undefined || dir === '') return;
  if (!isReplicaDir(dir)) {
    deps.log.error('refusing to remove a directory that is not a replica data directory', { kind: 'Replica', name, dir });
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
  deps.log.info('removed replica data', { kind: 'Replica', name, dir });
}

async function finalize(deps: InstanceDeps, r: Replica): Promise<void> {
  const rec = await deps.supervisor.stop(replicaKey(r.metadata.name));
  await removeDataDir(deps, replicaDataDir(r), r.metadata.name);
  if (rec?.dataDir !== undefined && rec.dataDir !== replicaDataDir(r)) await removeDataDir(deps, rec.dataDir, r.metadata.name);
  const fins = r.metadata.finalizers ?? [];
  if (!fins.includes(FINALIZER)) return;
  try {
    await deps.store.patch('Replica', r.metadata.name, { type: 'merge', value: { metadata: { finalizers: fins.filter((f) => f !== FINALIZER), resourceVersion: r.metadata.resourceVersion } } });
  } catch (e) {
    if (!isStoreError(e, 'NotFound') && !isStoreError(e, 'Conflict')) throw e;
  }
}

/**
 * One pass over this node's Replicas: run the wanted ones, stop the others, clean up deleted ones,
 * and report each one's process on its status. Returns the supervisor keys it claims.
 */
export async function reconcileReplicas(deps: InstanceDeps, all: readonly Replica[]): Promise<Set<string>> {
  const claimed = new Set<string>();
  const mine = all.filter((r) => r.spec.nodeID === deps.node);
  for (const r of mine) {
    const key = replicaKey(r.metadata.name);
    try {
      if (r.metadata.deletionTimestamp !== undefined) {
        await finalize(deps, r);
        continue;
      }
      if (!(r.metadata.finalizers ?? []).includes(FINALIZER)) {
        // The agent holds the finalizer: a deleted Replica stays until its process is stopped and its data removed.
        await deps.store.patch('Replica', r.metadata.name, { type: 'merge', value: { metadata: { finalizers: [...(r.metadata.finalizers ?? []), FINALIZER], resourceVersion: r.metadata.resourceVersion } } }).catch((e: unknown) => {
          if (!isStoreError(e, 'NotFound') && !isStoreError(e, 'Conflict')) throw e;
        });
      }
      if (r.spec.desireState !== 'running') {
        await deps.supervisor.stop(key);
        await writeStatus(deps, r, statusOf(undefined));
        continue;
      }
      if (!isSafeDataDirectoryName(r.spec.dataDirectoryName) || !isAbsolute(r.spec.diskPath)) {
        await writeStatus(deps, r, statusOf(undefined, `spec.dataDirectoryName ${JSON.stringify(r.spec.dataDirectoryName)} or spec.diskPath ${JSON.stringify(r.spec.diskPath)} is not usable (a plain name under an absolute disk path)`));
        continue;
      }
      const disk = deps.disks.diskOf(r);
      if (disk !== undefined && !disk.ready && disk.hung) {
        // A disk that does not answer: report the replica failed but leave its process alone (stopping
        // it would not help a slow disk, and its engine times out its I/O anyway). No restart meanwhile.
        claimed.add(key);
        await writeStatus(deps, r, statusOf(undefined, `disk ${disk.name} is not answering: ${disk.message}`));
        continue;
      }
      if (disk !== undefined && !disk.ready) {
        await deps.supervisor.stop(key);
        await writeStatus(deps, r, statusOf(undefined, `disk ${disk.name} is not ready: ${disk.message}`));
        continue;
      }
      // Never start a replica on a path that is not (or no longer) the disk: it would create its
      // directory on whatever filesystem is there now.
      const identity = join(r.spec.diskPath, IDENTITY_FILE);
      const phase = deps.supervisor.view(key)?.phase;
      if (phase !== 'running' && phase !== 'starting' && !(await fs.stat(identity).then(() => true, () => false))) {
        await deps.supervisor.stop(key);
        await writeStatus(deps, r, statusOf(undefined, `disk at ${r.spec.diskPath} has no ${IDENTITY_FILE}: not a Shorthorn disk (or not mounted)`));
        continue;
      }
      claimed.add(key);
      const secretFile = await volumeSecretFile(deps.dataRoot, deps.clusterSecret, r.spec.volumeName);
      const dir = replicaDataDir(r);
      const size = String(quantityBytes(r.spec.volumeSize));
      const view = deps.supervisor.ensure(key, {
        portCount: 1,
        readyKey: 'listening',
        dataDir: dir,
        argv: (ports) => [...deps.shorthornBin, 'replica', 'serve', '--dir', dir, '--size', size, '--listen', `${deps.host}:${ports[0]}`, '--secret-file', secretFile, '--allow-grow'],
      });
      await writeStatus(deps, r, statusOf(view));
    } catch (e) {
      deps.log.warn('replica reconcile failed', { kind: 'Replica', name: r.metadata.name, error: e });
    }
  }
  // Children whose Replica object is gone altogether: stop them and remove their data.
  const names = new Set(mine.map((r) => replicaKey(r.metadata.name)));
  for (const key of deps.supervisor.keys()) {
    if (!key.startsWith('replica/') || names.has(key)) continue;
    const rec = await deps.supervisor.stop(key);
    await removeDataDir(deps, rec?.dataDir, key.slice('replica/'.length));
  }
  return claimed;
}
