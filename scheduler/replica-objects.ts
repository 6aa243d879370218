import { API_VERSION } from '../api/codecs/meta.ts';
import type { Replica } from '../api/codecs/replica.ts';
import type { Volume } from '../api/codecs/volume.ts';
import type { Pick } from './placement/place.ts';

/** The label every Replica carries with its volume's name. */
export const LABEL_VOLUME = 'shorthorn.io/volume';
/** The label every Replica carries with its node's name. */
export const LABEL_NODE = 'shorthorn.io/node';

/**
 * The Replica objects for a volume's picks: name `<volume>-r-<hex>`, data directory
 * `<volume>-<hex>`, the volume's labels and an owner reference. Pure; `hex` gives 8 hex digits.
 */
export function replicaObjectsFor(volume: Volume, picks: readonly Pick[], hex: () => string): Replica[] {
  return picks.map((p) => {
    const h = hex();
    return {
      apiVersion: API_VERSION,
      kind: 'Replica',
      metadata: {
        name: `${volume.metadata.name}-r-${h}`,
        labels: { [LABEL_VOLUME]: volume.metadata.name, [LABEL_NODE]: p.node },
        ...(volume.metadata.uid !== undefined ? { ownerReferences: [{ apiVersion: API_VERSION, kind: 'Volume', name: volume.metadata.name, uid: volume.metadata.uid }] } : {}),
      },
      spec: { volumeName: volume.metadata.name, volumeSize: volume.spec.size, nodeID: p.node, diskID: p.disk, diskPath: p.diskPath, dataDirectoryName: `${volume.metadata.name}-${h}`, desireState: 'running' },
    };
  });
}
