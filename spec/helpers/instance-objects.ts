import { API_VERSION } from '../../api/codecs/meta.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import type { ObjectStore } from '../../api/store/port.ts';

/** Creates a Replica object bound to a node and disk (what the placement controller would write). */
export function createReplica(store: ObjectStore, name: string, o: { volume: string; size?: string; node: string; diskPath: string; diskID?: string; desireState?: 'running' | 'stopped'; finalizer?: boolean; dataDirectoryName?: string }): Promise<Replica> {
  return store.create('Replica', {
    apiVersion: API_VERSION,
    kind: 'Replica',
    metadata: { name, labels: { 'shorthorn.io/volume': o.volume }, ...(o.finalizer === false ? {} : { finalizers: ['shorthorn.io'] }) },
    spec: { volumeName: o.volume, volumeSize: o.size ?? '16Mi', nodeID: o.node, diskID: o.diskID ?? '', diskPath: o.diskPath, dataDirectoryName: o.dataDirectoryName ?? `${o.volume}-${name}`, desireState: o.desireState ?? 'running' },
  });
}

/** Creates a defaulted Volume object (what admission would leave). */
export function createVolume(store: ObjectStore, name: string, o: { size?: string; replicas?: number; nodeID?: string } = {}): Promise<Volume> {
  return store.create('Volume', {
    apiVersion: API_VERSION,
    kind: 'Volume',
    metadata: { name, finalizers: ['shorthorn.io'] },
    spec: { size: o.size ?? '16Mi', numberOfReplicas: o.replicas ?? 3, dataLocality: 'disabled', accessMode: 'rwo', frontend: 'iscsi', ...(o.nodeID !== undefined ? { nodeID: o.nodeID } : {}) },
  });
}
