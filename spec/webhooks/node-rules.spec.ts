import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EmbeddedStore } from '../../api/store/embedded.ts';
import { generatedDiskName } from '../../webhooks/index.ts';
import { obj, runCase, type Case } from './harness.ts';

const nodeObj = (spec: Record<string, unknown>, name = 'n1') => obj('Node', name, { spec });
const disk = (path: string, extra: Record<string, unknown> = {}) => ({ path, allowScheduling: true, evictionRequested: false, tags: [], ...extra });
const replica = (name: string, nodeID: string, diskID: string) =>
  obj('Replica', name, { spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID, diskID, diskPath: '/mnt/a', dataDirectoryName: `${name}-dir`, desireState: 'running' } });

async function seedNode(s: EmbeddedStore, disks: Record<string, unknown> = { d1: disk('/mnt/a') }, spec: Record<string, unknown> = {}): Promise<void> {
  await s.create('Node', nodeObj({ disks, ...spec }));
}

async function seedNodeWithStatus(s: EmbeddedStore): Promise<void> {
  await seedNode(s);
  const n = await s.get('Node', 'n1');
  await s.updateStatus('Node', { ...n, status: { diskStatus: { d1: { diskUUID: 'uuid-1', storageMaximum: String(100 * 2 ** 30) } } } });
}

async function seedNodeWithReplica(s: EmbeddedStore, disabled = true): Promise<void> {
  await seedNode(s, { d1: disk('/mnt/a', { allowScheduling: !disabled }), d2: disk('/mnt/b', { allowScheduling: false }) });
  await s.create('Volume', obj('Volume', 'v1', { spec: { size: '1Gi' } }));
  await s.create('Replica', replica('v1-r-0a1b2c3d', 'n1', 'd1'));
}

const editSpec = (f: (spec: any) => void) => (n: any) => {
  f(n.spec);
  return n;
};

const cases: Case[] = [
  {
    name: 'names a disk added under its path: disk-<8 hex of sha256(path)>, path kept; defaults scheduling flags and tags',
    kind: 'Node',
    op: 'CREATE',
    object: () => nodeObj({ disks: { '/var/lib/shorthorn': {} } }),
    expect: {
      allowed: true,
      check: (o) => {
        const name = generatedDiskName('/var/lib/shorthorn');
        assert.match(name, /^disk-[0-9a-f]{8}$/);
        assert.deepEqual(o.spec, { disks: { [name]: disk('/var/lib/shorthorn') }, allowScheduling: true, evictionRequested: false, tags: [] });
      },
    },
  },
  { name: 'names a disk added under an empty key from its path', kind: 'Node', op: 'CREATE', object: () => nodeObj({ disks: { '': { path: '/mnt/x' } } }), expect: { allowed: true, check: (o) => assert.deepEqual(Object.keys(o.spec.disks), [generatedDiskName('/mnt/x')]) } },
  { name: 'adds a placeholder disk on update and keeps stored flags the update drops', kind: 'Node', op: 'UPDATE', seed: (s) => seedNode(s, { d1: disk('/mnt/a', { allowScheduling: false }) }), target: 'n1', object: editSpec((s) => { delete s.disks.d1.allowScheduling; s.disks['/mnt/b'] = {}; }), expect: { allowed: true, check: (o) => { assert.equal(o.spec.disks.d1.allowScheduling, false); assert.equal(o.spec.disks[generatedDiskName('/mnt/b')].path, '/mnt/b'); } } },
  { name: 'refuses a disk name that is not a DNS-1123 label', kind: 'Node', op: 'CREATE', object: () => nodeObj({ disks: { Fast_Disk: { path: '/mnt/a' } } }), expect: { message: 'spec.disks.Fast_Disk: disk name: expected a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters), got "Fast_Disk"' } },
  { name: 'refuses a relative disk path', kind: 'Node', op: 'CREATE', object: () => nodeObj({ disks: { d1: { path: 'mnt/a' } } }), expect: { message: 'spec.disks.d1.path: expected an absolute path, got "mnt/a"' } },
  { name: 'refuses a disk without a path', kind: 'Node', op: 'CREATE', object: () => nodeObj({ disks: { d1: { tags: [] } } }), expect: { message: 'spec.disks.d1.path: required (string)' } },
  { name: 'refuses two disks with one path (trailing slash and all)', kind: 'Node', op: 'CREATE', object: () => nodeObj({ disks: { d1: { path: '/mnt/a' }, d2: { path: '/mnt/a/' } } }), expect: { message: 'spec.disks.d2.path: "/mnt/a/" is already the path of disk d1' } },
  { name: 'takes disks with distinct absolute paths', kind: 'Node', op: 'CREATE', object: () => nodeObj({ disks: { d1: { path: '/mnt/a' }, d2: { path: '/mnt/b' } } }), expect: { allowed: true } },
  { name: 'takes storageReserved within the disk maximum', kind: 'Node', op: 'UPDATE', seed: seedNodeWithStatus, target: 'n1', object: editSpec((s) => (s.disks.d1.storageReserved = '30Gi')), expect: { allowed: true } },
  { name: 'refuses storageReserved above the disk maximum', kind: 'Node', op: 'UPDATE', seed: seedNodeWithStatus, target: 'n1', object: editSpec((s) => (s.disks.d1.storageReserved = '200Gi')), expect: { message: "spec.disks.d1.storageReserved: expected at most the disk's maximum 100Gi, got 200Gi" } },
  { name: 'refuses a negative storageReserved', kind: 'Node', op: 'UPDATE', seed: seedNodeWithStatus, target: 'n1', object: editSpec((s) => (s.disks.d1.storageReserved = '-1Gi')), expect: { message: 'spec.disks.d1.storageReserved: expected a size such as 10Gi, 500M or a byte count, got "-1Gi"' } },
  { name: 'refuses node eviction while scheduling is allowed', kind: 'Node', op: 'UPDATE', seed: (s) => seedNode(s), target: 'n1', object: editSpec((s) => (s.evictionRequested = true)), expect: { message: 'spec.evictionRequested: true requires spec.allowScheduling false first (scheduling is still allowed on the node)' } },
  { name: 'takes node eviction with scheduling disabled', kind: 'Node', op: 'UPDATE', seed: (s) => seedNode(s), target: 'n1', object: editSpec((s) => { s.allowScheduling = false; s.evictionRequested = true; }), expect: { allowed: true } },
  { name: 'refuses disk eviction while scheduling is allowed on the disk', kind: 'Node', op: 'UPDATE', seed: (s) => seedNode(s), target: 'n1', object: editSpec((s) => (s.disks.d1.evictionRequested = true)), expect: { message: 'spec.disks.d1.evictionRequested: true requires spec.disks.d1.allowScheduling false first (scheduling is still allowed on the disk)' } },
  { name: 'takes disk eviction with scheduling disabled on the disk', kind: 'Node', op: 'UPDATE', seed: (s) => seedNode(s), target: 'n1', object: editSpec((s) => Object.assign(s.disks.d1, { allowScheduling: false, evictionRequested: true })), expect: { allowed: true } },
  { name: 'refuses removing a disk while scheduling is allowed on it', kind: 'Node', op: 'UPDATE', seed: (s) => seedNode(s), target: 'n1', object: editSpec((s) => delete s.disks.d1), expect: { message: 'spec.disks.d1: cannot remove a disk while scheduling is allowed on it; set its allowScheduling false first', code: 403 } },
  { name: 'removes a disabled, empty disk', kind: 'Node', op: 'UPDATE', seed: seedNodeWithReplica, target: 'n1', object: editSpec((s) => delete s.disks.d2), expect: { allowed: true } },
  { name: 'refuses removing a disabled disk that holds a replica', kind: 'Node', op: 'UPDATE', seed: seedNodeWithReplica, target: 'n1', object: editSpec((s) => delete s.disks.d1), expect: { message: 'spec.disks.d1: cannot remove a disk that holds 1 replica(s) (v1-r-0a1b2c3d); evict them first', code: 403 } },
  { name: 'collects both removal violations of a disk', kind: 'Node', op: 'UPDATE', seed: (s) => seedNodeWithReplica(s, false), target: 'n1', object: editSpec((s) => delete s.disks.d1), expect: { message: 'spec.disks.d1: cannot remove a disk while scheduling is allowed on it; set its allowScheduling false first; spec.disks.d1: cannot remove a disk that holds 1 replica(s) (v1-r-0a1b2c3d); evict them first' } },
  { name: 'refuses deleting a node that holds replicas', kind: 'Node', op: 'DELETE', seed: seedNodeWithReplica, target: 'n1', expect: { message: 'metadata.name: node "n1" cannot be deleted: it holds 1 replica(s) (v1-r-0a1b2c3d); evict them first', code: 403 } },
  { name: 'deletes a node without replicas', kind: 'Node', op: 'DELETE', seed: (s) => seedNode(s), target: 'n1', expect: { allowed: true } },
  { name: 'refuses malformed node and disk tags', kind: 'Node', op: 'CREATE', object: () => nodeObj({ tags: ['ok', 'not ok'], disks: { d1: { path: '/mnt/a', tags: ['x'.repeat(64)] } } }), expect: { message: `spec.disks.d1.tags.0: expected a tag of 1 to 63 letters, digits, ".", "_" or "-", got "${'x'.repeat(57)}..."; spec.tags.1: expected a tag of 1 to 63 letters, digits, ".", "_" or "-", got "not ok"` } },
  { name: 'takes node status updates without spec rules', kind: 'Node', op: 'STATUS', seed: (s) => seedNode(s, { d1: disk('/mnt/a', { evictionRequested: true, allowScheduling: false }) }), target: 'n1', object: (n) => ({ ...n, status: { zone: 'a' } }), expect: { allowed: true } },
];

describe('Node admission (HTTP and embedded store)', { timeout: 60_000 }, () => {
  for (const c of cases) it(c.name, () => runCase(c));
});
