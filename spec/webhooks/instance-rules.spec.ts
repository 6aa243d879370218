import { describe, it } from 'node:test';
import type { EmbeddedStore } from '../../api/store/embedded.ts';
import { SETTINGS } from '../../api/settings.ts';
import { obj, runCase, type Case } from './harness.ts';

const replica = (spec: Record<string, unknown> = {}, name = 'v1-r-0a1b2c3d') =>
  obj('Replica', name, { spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID: 'n1', diskID: 'd1', diskPath: '/mnt/a', dataDirectoryName: 'v1-0a1b2c3d', desireState: 'running', ...spec } });
const engine = (spec: Record<string, unknown> = {}) => obj('Engine', 'v1-e-0', { spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID: 'n1', desireState: 'running', frontend: 'iscsi', replicaAddressMap: {}, ...spec } });
const setting = (name: string, value: string) => obj('Setting', name, { value });

async function seedVolume(s: EmbeddedStore, name = 'v1'): Promise<void> {
  await s.create('Volume', obj('Volume', name, { spec: { size: '1Gi' } }));
}
async function seedDeletingVolume(s: EmbeddedStore): Promise<void> {
  await seedVolume(s);
  await s.delete('Volume', 'v1');
}
async function seedReplica(s: EmbeddedStore, spec: Record<string, unknown> = {}): Promise<void> {
  await seedVolume(s);
  await seedVolume(s, 'v2');
  await s.create('Replica', replica(spec));
}
async function seedEngine(s: EmbeddedStore, spec: Record<string, unknown> = {}): Promise<void> {
  await seedVolume(s);
  await seedVolume(s, 'v2');
  await s.create('Engine', engine(spec));
}
const editSpec = (f: (spec: any) => void) => (o: any) => {
  f(o.spec);
  return o;
};

const replicas: Case[] = [
  { name: 'creates a Replica of an existing volume', kind: 'Replica', op: 'CREATE', seed: (s) => seedVolume(s), object: () => replica(), expect: { allowed: true } },
  { name: 'refuses a Replica of a volume that does not exist', kind: 'Replica', op: 'CREATE', object: () => replica(), expect: { message: 'spec.volumeName: volume "v1" does not exist' } },
  { name: 'refuses a Replica of a volume being deleted', kind: 'Replica', op: 'CREATE', seed: seedDeletingVolume, object: () => replica(), expect: { message: 'spec.volumeName: volume "v1" is being deleted', code: 403 } },
  { name: 'refuses a Replica without its required fields', kind: 'Replica', op: 'CREATE', seed: (s) => seedVolume(s), object: () => obj('Replica', 'r1', { spec: { volumeName: 'v1' } }), expect: { message: 'spec.volumeSize: required (a size such as 10Gi, 500M or a byte count); spec.nodeID: required (string); spec.diskID: required (string); spec.diskPath: required (string); spec.dataDirectoryName: required (string); spec.desireState: required (one of running, stopped)' } },
  { name: 'updates a Replica without touching its placement', kind: 'Replica', op: 'UPDATE', seed: (s) => seedReplica(s), target: 'v1-r-0a1b2c3d', object: editSpec((s) => (s.desireState = 'stopped')), expect: { allowed: true } },
  { name: 'sets a Replica diskID that was empty', kind: 'Replica', op: 'UPDATE', seed: (s) => seedReplica(s, { diskID: '' }), target: 'v1-r-0a1b2c3d', object: editSpec((s) => (s.diskID = 'd1')), expect: { allowed: true } },
  { name: 'refuses a change of Replica nodeID', kind: 'Replica', op: 'UPDATE', seed: (s) => seedReplica(s), target: 'v1-r-0a1b2c3d', object: editSpec((s) => (s.nodeID = 'n2')), expect: { message: 'spec.nodeID: is immutable once set, cannot change from "n1" to "n2"' } },
  { name: 'refuses a change of Replica diskID', kind: 'Replica', op: 'UPDATE', seed: (s) => seedReplica(s), target: 'v1-r-0a1b2c3d', object: editSpec((s) => (s.diskID = 'd2')), expect: { message: 'spec.diskID: is immutable once set, cannot change from "d1" to "d2"' } },
  { name: 'refuses a change of Replica volumeName and nodeID together', kind: 'Replica', op: 'UPDATE', seed: (s) => seedReplica(s), target: 'v1-r-0a1b2c3d', object: editSpec((s) => Object.assign(s, { volumeName: 'v2', nodeID: '' })), expect: { message: 'spec.volumeName: is immutable once set, cannot change from "v1" to "v2"; spec.nodeID: is immutable once set, cannot change from "n1" to ""' } },
  { name: 'updates a Replica after its volume is gone (clean-up)', kind: 'Replica', op: 'UPDATE', seed: async (s) => { await seedReplica(s); const v = await s.get('Volume', 'v1'); await s.update('Volume', { ...v, metadata: { ...v.metadata, finalizers: [] } }); await s.delete('Volume', 'v1'); }, target: 'v1-r-0a1b2c3d', object: editSpec((s) => (s.desireState = 'stopped')), expect: { allowed: true } },
];

const engines: Case[] = [
  { name: 'creates an Engine of an existing volume', kind: 'Engine', op: 'CREATE', seed: (s) => seedVolume(s), object: () => engine(), expect: { allowed: true } },
  { name: 'refuses an Engine of a volume that does not exist', kind: 'Engine', op: 'CREATE', object: () => engine(), expect: { message: 'spec.volumeName: volume "v1" does not exist' } },
  { name: 'refuses an Engine with an unknown frontend', kind: 'Engine', op: 'CREATE', seed: (s) => seedVolume(s), object: () => engine({ frontend: 'nbd' }), expect: { message: 'spec.frontend: expected one of blockdev, iscsi, got "nbd"' } },
  { name: 'clears an Engine nodeID (the volume detaches)', kind: 'Engine', op: 'UPDATE', seed: (s) => seedEngine(s), target: 'v1-e-0', object: editSpec((s) => (s.nodeID = '')), expect: { allowed: true } },
  { name: 'sets an Engine nodeID that was clear (the volume attaches)', kind: 'Engine', op: 'UPDATE', seed: (s) => seedEngine(s, { nodeID: '' }), target: 'v1-e-0', object: editSpec((s) => (s.nodeID = 'n2')), expect: { allowed: true } },
  { name: 'refuses moving an Engine from one node straight to another', kind: 'Engine', op: 'UPDATE', seed: (s) => seedEngine(s), target: 'v1-e-0', object: editSpec((s) => (s.nodeID = 'n2')), expect: { message: 'spec.nodeID: cannot move from "n1" to "n2" while set; clear it first (the engine stops on "n1")' } },
  { name: 'refuses a change of Engine volumeName', kind: 'Engine', op: 'UPDATE', seed: (s) => seedEngine(s), target: 'v1-e-0', object: editSpec((s) => (s.volumeName = 'v2')), expect: { message: 'spec.volumeName: is immutable once set, cannot change from "v1" to "v2"' } },
];

const settings: Case[] = [
  ...Object.entries(SETTINGS).map(([name, def]): Case => ({ name: `takes ${name} = its default`, kind: 'Setting', op: 'CREATE', object: () => setting(name, String(def.default)), expect: { allowed: true } })),
  { name: 'refuses an unknown setting', kind: 'Setting', op: 'CREATE', object: () => setting('default-replica-cnt', '3'), expect: { message: `metadata.name: unknown setting "default-replica-cnt" (known: ${Object.keys(SETTINGS).join(', ')})` } },
  { name: 'refuses a count out of range', kind: 'Setting', op: 'CREATE', object: () => setting('default-replica-count', '0'), expect: { message: 'value: expected an integer from 1 to 20, got 0 (setting default-replica-count)' } },
  { name: 'refuses a percentage over 100', kind: 'Setting', op: 'CREATE', object: () => setting('storage-minimal-available-percentage', '101'), expect: { message: 'value: expected an integer from 0 to 100, got 101 (setting storage-minimal-available-percentage)' } },
  { name: 'refuses a non-integer', kind: 'Setting', op: 'CREATE', object: () => setting('storage-over-provisioning-percentage', '1.5'), expect: { message: 'value: expected an integer from 0 to 10000, got "1.5" (setting storage-over-provisioning-percentage)' } },
  { name: 'refuses a bool that is not true or false', kind: 'Setting', op: 'CREATE', object: () => setting('replica-soft-anti-affinity', 'yes'), expect: { message: 'value: expected true or false, got "yes" (setting replica-soft-anti-affinity)' } },
  { name: 'refuses a value outside the enum', kind: 'Setting', op: 'CREATE', object: () => setting('default-data-locality', 'far'), expect: { message: 'value: expected one of disabled, best-effort, strict-local, got "far" (setting default-data-locality)' } },
  { name: 'refuses a value that is not a string', kind: 'Setting', op: 'CREATE', object: () => setting('default-replica-count', 3 as never), expect: { message: 'value: expected string, got 3' } },
  { name: 'updates a setting within range', kind: 'Setting', op: 'UPDATE', seed: async (s) => { await s.create('Setting', setting('default-replica-count', '3')); }, target: 'default-replica-count', object: (o) => ({ ...o, value: '5' }), expect: { allowed: true } },
  { name: 'refuses an update out of range', kind: 'Setting', op: 'UPDATE', seed: async (s) => { await s.create('Setting', setting('default-replica-count', '3')); }, target: 'default-replica-count', object: (o) => ({ ...o, value: '21' }), expect: { message: 'value: expected an integer from 1 to 20, got 21 (setting default-replica-count)' } },
  { name: 'deletes a setting (back to its default)', kind: 'Setting', op: 'DELETE', seed: async (s) => { await s.create('Setting', setting('default-replica-count', '3')); }, target: 'default-replica-count', expect: { allowed: true } },
];

describe('Replica, Engine and Setting admission (HTTP and embedded store)', { timeout: 60_000 }, () => {
  for (const c of [...replicas, ...engines, ...settings]) it(c.name, () => runCase(c));
});
