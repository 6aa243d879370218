import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EmbeddedStore } from '../../api/store/embedded.ts';
import { obj, runCase, type Case } from './harness.ts';

const vol = (spec: Record<string, unknown>, name = 'v1') => obj('Volume', name, { spec });
const setting = (s: EmbeddedStore, name: string, value: string) => s.create('Setting', obj('Setting', name, { value }));
const node = (name: string, zone?: string) => obj('Node', name, { spec: {} }, zone ? { labels: { 'topology.kubernetes.io/zone': zone } } : {});

async function seedVolume(s: EmbeddedStore, spec: Record<string, unknown> = {}): Promise<void> {
  await s.create('Volume', vol({ size: '10Gi', ...spec }));
}

async function seedAttached(s: EmbeddedStore, spec: Record<string, unknown> = {}): Promise<void> {
  await seedVolume(s, spec);
  const v = await s.get('Volume', 'v1');
  const a = await s.update('Volume', { ...v, spec: { ...v.spec, nodeID: 'n1' } });
  await s.updateStatus('Volume', { ...a, status: { state: 'attached', currentNodeID: 'n1' } });
}

async function seedDeleting(s: EmbeddedStore): Promise<void> {
  await seedVolume(s);
  await s.delete('Volume', 'v1');
}

const edit = (f: (spec: any) => void) => (v: any) => {
  f(v.spec);
  return v;
};

const create: Case[] = [
  {
    name: 'defaults a Volume from the Settings: replicas, locality, stale timeout; rwo, iscsi, selectors [], overrides ignored, finalizer',
    kind: 'Volume',
    op: 'CREATE',
    seed: async (s) => {
      await setting(s, 'default-replica-count', '2');
      await setting(s, 'default-data-locality', 'best-effort');
      await setting(s, 'stale-replica-timeout', '45');
    },
    object: () => vol({ size: '10Gi', nodeSelector: null }),
    expect: {
      allowed: true,
      check: (o) => {
        assert.deepEqual(o.spec, {
          size: '10Gi', nodeSelector: [], numberOfReplicas: 2, dataLocality: 'best-effort', accessMode: 'rwo', frontend: 'iscsi', staleReplicaTimeout: 45, diskSelector: [],
          replicaSoftAntiAffinity: 'ignored', replicaZoneSoftAntiAffinity: 'ignored', replicaDiskSoftAntiAffinity: 'ignored', replicaAutoBalance: 'ignored',
        });
        assert.deepEqual(o.metadata.finalizers, ['shorthorn.io']);
      },
    },
  },
  { name: 'keeps the values a Volume sets', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '2Gi', numberOfReplicas: 5, accessMode: 'rwx', frontend: 'blockdev', replicaSoftAntiAffinity: 'enabled' }), expect: { allowed: true, check: (o) => assert.deepEqual([o.spec.numberOfReplicas, o.spec.accessMode, o.spec.frontend, o.spec.replicaSoftAntiAffinity], [5, 'rwx', 'blockdev', 'enabled']) } },
  { name: 'rounds the size up to 2 MiB', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '10G' }), expect: { allowed: true, check: (o) => assert.equal(o.spec.size, '9538Mi') } },
  { name: 'adds the finalizer next to other finalizers', kind: 'Volume', op: 'CREATE', object: () => ({ ...vol({ size: '1Gi' }), metadata: { name: 'v1', finalizers: ['example.com/x'] } }), expect: { allowed: true, check: (o) => assert.deepEqual(o.metadata.finalizers, ['example.com/x', 'shorthorn.io']) } },
  { name: 'takes a 52-character name', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi' }, 'a'.repeat(52)), expect: { allowed: true } },
  { name: 'refuses a 53-character name (replica names would pass 63)', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi' }, 'a'.repeat(53)), expect: { message: `metadata.name: expected a DNS-1123 label of at most 52 characters (lower-case letters, digits and "-"; replica names add 11 and must stay within 63), got "${'a'.repeat(53)}"`, code: 422 } },
  { name: 'refuses a dotted name (not a DNS-1123 label)', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi' }, 'a.b'), expect: { message: 'metadata.name: expected a DNS-1123 label of at most 52 characters (lower-case letters, digits and "-"; replica names add 11 and must stay within 63), got "a.b"' } },
  { name: 'refuses size 0', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '0' }), expect: { message: 'spec.size: expected more than 0 bytes, got "0"' } },
  { name: 'takes 16Ti', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '16Ti' }), expect: { allowed: true } },
  { name: 'refuses more than 16Ti', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '17Ti' }), expect: { message: 'spec.size: expected at most 16Ti, got "17Ti"' } },
  { name: 'refuses a size that is not a quantity', kind: 'Volume', op: 'CREATE', object: () => vol({ size: 'ten gigs' }), expect: { message: 'spec.size: expected a size such as 10Gi, 500M or a byte count, got "ten gigs"' } },
  { name: 'refuses a missing size', kind: 'Volume', op: 'CREATE', object: () => vol({}), expect: { message: 'spec.size: required (a size such as 10Gi, 500M or a byte count)' } },
  { name: 'refuses numberOfReplicas 0 and names the field', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', numberOfReplicas: 0 }), expect: { message: 'spec.numberOfReplicas: expected an integer from 1 to 20, got 0' } },
  { name: 'refuses numberOfReplicas 21', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', numberOfReplicas: 21 }), expect: { message: 'spec.numberOfReplicas: expected an integer from 1 to 20, got 21' } },
  { name: 'takes numberOfReplicas 20', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', numberOfReplicas: 20 }), expect: { allowed: true } },
  { name: 'warns that 1 replica gives no redundancy', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', numberOfReplicas: 1 }), expect: { allowed: true, check: (_o, w) => assert.deepEqual(w, ['spec.numberOfReplicas: 1 replica gives no redundancy: the data is lost with its disk']) } },
  { name: 'refuses an unknown dataLocality', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', dataLocality: 'nearby' }), expect: { message: 'spec.dataLocality: expected one of disabled, best-effort, strict-local, got "nearby"' } },
  { name: 'refuses an unknown accessMode', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', accessMode: 'rwm' }), expect: { message: 'spec.accessMode: expected one of rwo, rwop, rwx, got "rwm"' } },
  { name: 'refuses an unknown frontend', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', frontend: 'nvmf' }), expect: { message: 'spec.frontend: expected one of blockdev, iscsi, got "nvmf"' } },
  { name: 'refuses an unknown anti-affinity override', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', replicaZoneSoftAntiAffinity: 'sometimes' }), expect: { message: 'spec.replicaZoneSoftAntiAffinity: expected one of ignored, enabled, disabled, got "sometimes"' } },
  { name: 'refuses snapshotMaxCount 1', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', snapshotMaxCount: 1 }), expect: { message: 'spec.snapshotMaxCount: expected an integer from 2 to 250, got 1' } },
  { name: 'takes strict-local with exactly one replica', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', dataLocality: 'strict-local', numberOfReplicas: 1 }), expect: { allowed: true } },
  { name: 'refuses strict-local with 3 replicas', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', dataLocality: 'strict-local', numberOfReplicas: 3 }), expect: { message: 'spec.numberOfReplicas: dataLocality strict-local needs exactly 1 replica, got 3' } },
  { name: 'takes selectors that are lists of tags', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', nodeSelector: ['ssd', 'rack.a_1'], diskSelector: ['nvme'] }), expect: { allowed: true } },
  { name: 'refuses a selector that is not a list', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', diskSelector: 'ssd' }), expect: { message: 'spec.diskSelector: expected a list of strings, got "ssd"' } },
  { name: 'refuses a malformed and a repeated tag in selectors', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', nodeSelector: ['fast disk'], diskSelector: ['ssd', 'ssd'] }), expect: { message: 'spec.nodeSelector.0: expected a tag of 1 to 63 letters, digits, ".", "_" or "-", got "fast disk"; spec.diskSelector.1: tag "ssd" is listed twice' } },
  { name: 'collects every violation, not just the first', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', numberOfReplicas: 0, dataLocality: 'x', accessMode: 7 }), expect: { message: 'spec.numberOfReplicas: expected an integer from 1 to 20, got 0; spec.dataLocality: expected one of disabled, best-effort, strict-local, got "x"; spec.accessMode: expected one of rwo, rwop, rwx, got 7' } },
  { name: 'collects rule violations together (strict-local and a bad selector)', kind: 'Volume', op: 'CREATE', object: () => vol({ size: '1Gi', dataLocality: 'strict-local', numberOfReplicas: 2, nodeSelector: [''] }), expect: { message: 'spec.numberOfReplicas: dataLocality strict-local needs exactly 1 replica, got 2; spec.nodeSelector.0: expected a tag of 1 to 63 letters, digits, ".", "_" or "-", got ""' } },
  {
    name: 'warns when fewer replicas than zones',
    kind: 'Volume',
    op: 'CREATE',
    seed: async (s) => {
      for (const [n, z] of [['n1', 'a'], ['n2', 'b'], ['n3', 'c']] as const) await s.create('Node', node(n, z));
    },
    object: () => vol({ size: '1Gi', numberOfReplicas: 2 }),
    expect: { allowed: true, check: (_o, w) => assert.deepEqual(w, ['spec.numberOfReplicas: 2 replicas on a cluster with 3 zones: 1 zone(s) will hold no copy']) },
  },
  {
    name: 'warns when more replicas than nodes under hard node anti-affinity',
    kind: 'Volume',
    op: 'CREATE',
    seed: async (s) => {
      await s.create('Node', node('n1'));
      await s.create('Node', node('n2'));
    },
    object: () => vol({ size: '1Gi', numberOfReplicas: 3 }),
    expect: { allowed: true, check: (_o, w) => assert.deepEqual(w, ['spec.numberOfReplicas: 3 replicas but 2 node(s) and node anti-affinity is hard: 1 replica(s) cannot be scheduled']) },
  },
  {
    name: 'does not warn about nodes when node anti-affinity is soft',
    kind: 'Volume',
    op: 'CREATE',
    seed: async (s) => {
      await setting(s, 'replica-soft-anti-affinity', 'true');
      await s.create('Node', node('n1'));
    },
    object: () => vol({ size: '1Gi', numberOfReplicas: 3 }),
    expect: { allowed: true, check: (_o, w) => assert.deepEqual(w, []) },
  },
];

const GiB = 1024 ** 3;

/** v1 (10Gi) with replica v1-r1 on disk d1 of n1 (maxGi of space), and optionally a v2 replica of othersGi there too. */
async function seedOnDisk(s: EmbeddedStore, o: { maxGi?: number; othersGi?: number; nodeID?: string; reported?: boolean } = {}): Promise<void> {
  await seedVolume(s);
  await s.create('Node', obj('Node', 'n1', { spec: { disks: { d1: { path: '/data/d1' } } } }));
  if (o.reported !== false) {
    const n = await s.get('Node', 'n1');
    await s.updateStatus('Node', { ...n, status: { diskStatus: { d1: { diskUUID: 'u1', storageMaximum: String((o.maxGi ?? 100) * GiB) } } } });
  }
  const replica = (name: string, volume: string, size: string, nodeID: string) =>
    obj('Replica', name, { spec: { volumeName: volume, volumeSize: size, nodeID, diskID: nodeID === '' ? '' : 'u1', diskPath: nodeID === '' ? '' : '/data/d1', dataDirectoryName: name, desireState: 'running' } });
  await s.create('Replica', replica('v1-r1', 'v1', '10Gi', o.nodeID ?? 'n1'));
  if (o.othersGi !== undefined) {
    await s.create('Volume', vol({ size: `${o.othersGi}Gi` }, 'v2'));
    await s.create('Replica', replica('v2-r1', 'v2', `${o.othersGi}Gi`, 'n1'));
  }
}

const update: Case[] = [
  { name: 'grows a volume in 2 MiB steps', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.size = '20Gi')), expect: { allowed: true, check: (o) => assert.equal(o.spec.size, '20Gi') } },
  { name: 'grows a volume whose replica\'s disk has room for the growth', kind: 'Volume', op: 'UPDATE', seed: (s) => seedOnDisk(s, { maxGi: 100, othersGi: 80 }), target: 'v1', object: edit((s) => (s.size = '20Gi')), expect: { allowed: true, check: (o) => assert.equal(o.spec.size, '20Gi') } },
  { name: 'refuses to grow past what the replica\'s disk can take, naming the disk, the room and the need', kind: 'Volume', op: 'UPDATE', seed: (s) => seedOnDisk(s, { maxGi: 100, othersGi: 85 }), target: 'v1', object: edit((s) => (s.size = '20Gi')), expect: { message: 'spec.size: cannot grow from 10Gi to 20Gi: disk "d1" of node "n1" has 5Gi schedulable left (storage-over-provisioning-percentage 100), the growth needs 10Gi (replica "v1-r1")' } },
  { name: 'grows on the same disk when storage-over-provisioning-percentage makes room', kind: 'Volume', op: 'UPDATE', seed: async (s) => { await setting(s, 'storage-over-provisioning-percentage', '200'); await seedOnDisk(s, { maxGi: 100, othersGi: 85 }); }, target: 'v1', object: edit((s) => (s.size = '20Gi')), expect: { allowed: true } },
  { name: 'refuses to grow while a replica is not on a disk yet', kind: 'Volume', op: 'UPDATE', seed: (s) => seedOnDisk(s, { nodeID: '' }), target: 'v1', object: edit((s) => (s.size = '20Gi')), expect: { message: 'spec.size: cannot grow from 10Gi to 20Gi: replica "v1-r1" is not on a disk yet' } },
  { name: 'refuses to grow while the replica\'s disk has not reported its size', kind: 'Volume', op: 'UPDATE', seed: (s) => seedOnDisk(s, { reported: false }), target: 'v1', object: edit((s) => (s.size = '20Gi')), expect: { message: 'spec.size: cannot grow from 10Gi to 20Gi: disk "d1" of node "n1" has not reported its size yet (replica "v1-r1")' } },
  { name: 'refuses to shrink and says from what to what', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.size = '5Gi')), expect: { message: 'spec.size: cannot shrink from 10Gi to 5Gi' } },
  { name: 'refuses to grow by less than a 2 MiB step', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.size = '10737418241')), expect: { message: 'spec.size: can grow only in steps of 2Mi, got 10Gi to "10737418241"' } },
  { name: 'refuses to grow past 16Ti', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.size = '32Ti')), expect: { message: 'spec.size: expected at most 16Ti, got "32Ti"' } },
  { name: 'keeps stored values for fields an update drops (not the Setting)', kind: 'Volume', op: 'UPDATE', seed: (s) => seedVolume(s, { numberOfReplicas: 2 }), target: 'v1', object: edit((s) => delete s.numberOfReplicas), expect: { allowed: true, check: (o) => assert.equal(o.spec.numberOfReplicas, 2) } },
  { name: 'changes dataLocality to strict-local while detached', kind: 'Volume', op: 'UPDATE', seed: (s) => seedVolume(s, { numberOfReplicas: 1 }), target: 'v1', object: edit((s) => (s.dataLocality = 'strict-local')), expect: { allowed: true } },
  { name: 'refuses strict-local → best-effort while attached', kind: 'Volume', op: 'UPDATE', seed: (s) => seedAttached(s, { numberOfReplicas: 1, dataLocality: 'strict-local' }), target: 'v1', object: edit((s) => (s.dataLocality = 'best-effort')), expect: { message: 'spec.dataLocality: can change from strict-local to best-effort only while the volume is detached, and it is attached to "n1"' } },
  { name: 'changes disabled → best-effort while attached', kind: 'Volume', op: 'UPDATE', seed: (s) => seedAttached(s), target: 'v1', object: edit((s) => (s.dataLocality = 'best-effort')), expect: { allowed: true } },
  { name: 'attaches a detached volume (nodeID "" → n1)', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.nodeID = 'n1')), expect: { allowed: true } },
  { name: 'detaches an attached volume (nodeID n1 → "")', kind: 'Volume', op: 'UPDATE', seed: (s) => seedAttached(s), target: 'v1', object: edit((s) => (s.nodeID = '')), expect: { allowed: true } },
  { name: 'refuses a jump from one node to another while attached', kind: 'Volume', op: 'UPDATE', seed: (s) => seedAttached(s), target: 'v1', object: edit((s) => (s.nodeID = 'n2')), expect: { message: 'spec.nodeID: cannot move from "n1" to "n2" while attached; detach first (set it to "")' } },
  { name: 'refuses a change of accessMode (immutable)', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.accessMode = 'rwx')), expect: { message: 'spec.accessMode: is immutable, cannot change from rwo to rwx' } },
  { name: 'changes the frontend while detached', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.frontend = 'blockdev')), expect: { allowed: true } },
  { name: 'refuses a change of frontend while attached', kind: 'Volume', op: 'UPDATE', seed: (s) => seedAttached(s), target: 'v1', object: edit((s) => (s.frontend = 'blockdev')), expect: { message: 'spec.frontend: can change from iscsi to blockdev only while the volume is detached, and it is attached to "n1"' } },
  { name: 'refuses a spec change of a volume being deleted', kind: 'Volume', op: 'UPDATE', seed: seedDeleting, target: 'v1', object: edit((s) => (s.numberOfReplicas = 5)), expect: { message: /^spec: the volume is being deleted \(since \d{4}-\d\d-\d\dT[\d:]+Z\): only its status may change, got changes to spec\.numberOfReplicas$/, code: 403 } },
  { name: 'lets the finalizer go from a volume being deleted', kind: 'Volume', op: 'UPDATE', seed: seedDeleting, target: 'v1', object: (v) => ({ ...v, metadata: { ...v.metadata, finalizers: [] } }), expect: { allowed: true } },
  { name: 'takes status updates of a volume being deleted', kind: 'Volume', op: 'STATUS', seed: seedDeleting, target: 'v1', object: (v) => ({ ...v, status: { state: 'deleting' } }), expect: { allowed: true } },
  { name: 'takes status updates without spec rules (subresource status)', kind: 'Volume', op: 'STATUS', seed: (s) => seedAttached(s), target: 'v1', object: (v) => ({ ...v, status: { ...v.status, robustness: 'degraded' } }), expect: { allowed: true } },
  { name: 'warns on update when numberOfReplicas drops to 1', kind: 'Volume', op: 'UPDATE', seed: seedVolume, target: 'v1', object: edit((s) => (s.numberOfReplicas = 1)), expect: { allowed: true, check: (_o, w) => assert.deepEqual(w, ['spec.numberOfReplicas: 1 replica gives no redundancy: the data is lost with its disk']) } },
  { name: 'does not warn again on updates that leave numberOfReplicas alone', kind: 'Volume', op: 'UPDATE', seed: (s) => seedVolume(s, { numberOfReplicas: 1 }), target: 'v1', object: edit((s) => (s.size = '12Gi')), expect: { allowed: true, check: (_o, w) => assert.deepEqual(w, []) } },
  { name: 'lets a volume be deleted', kind: 'Volume', op: 'DELETE', seed: seedVolume, target: 'v1', expect: { allowed: true } },
];

describe('Volume admission (HTTP and embedded store)', { timeout: 60_000 }, () => {
  for (const c of [...create, ...update]) {
    it(c.name, () => runCase(c));
  }
});
