import type { AntiAffinityOverride, DataLocality, Volume } from '../../api/codecs/volume.ts';
import { quantityBytes, parseBytes } from '../../api/quantity.ts';
import type { Settings } from '../../api/settings.ts';

/** What placement needs to know of a volume and the settings, resolved once per placement. */
export interface VolumeRequest {
  readonly name: string;
  readonly sizeBytes: number;
  /** Data already written (status.actualSize): what a new replica must be able to receive. */
  readonly actualSizeBytes: number;
  readonly nodeSelector: readonly string[];
  readonly diskSelector: readonly string[];
  readonly dataLocality: DataLocality;
  /** Hard anti-affinity per level (false = soft: prefer, but allow when nothing else fits). */
  readonly hardZone: boolean;
  readonly hardNode: boolean;
  readonly hardDisk: boolean;
  /** storage-over-provisioning-percentage / 100. */
  readonly overProvisioning: number;
  /** storage-minimal-available-percentage / 100. */
  readonly minimalAvailable: number;
  readonly minimalAvailablePercent: number;
  readonly overProvisioningPercent: number;
}

/** A per-volume override over a cluster-wide "soft" setting: 'enabled' = soft, 'disabled' = hard. */
function isSoft(override: AntiAffinityOverride | undefined, clusterSoft: boolean): boolean {
  if (override === 'enabled') return true;
  if (override === 'disabled') return false;
  return clusterSoft;
}

/** Resolves a Volume's placement rules against the cluster Settings (per-volume overrides win). */
export function volumeRequest(volume: Volume, settings: Settings): VolumeRequest {
  const spec = volume.spec;
  const actual = volume.status?.actualSize;
  const parsedActual = actual === undefined ? undefined : parseBytes(actual);
  return {
    name: volume.metadata.name,
    sizeBytes: quantityBytes(spec.size),
    actualSizeBytes: parsedActual !== undefined && parsedActual._tag === 'Right' ? parsedActual.right : 0,
    nodeSelector: spec.nodeSelector ?? [],
    diskSelector: spec.diskSelector ?? [],
    dataLocality: spec.dataLocality,
    hardZone: !isSoft(spec.replicaZoneSoftAntiAffinity, settings['replica-zone-soft-anti-affinity']),
    hardNode: !isSoft(spec.replicaSoftAntiAffinity, settings['replica-soft-anti-affinity']),
    hardDisk: !isSoft(spec.replicaDiskSoftAntiAffinity, settings['replica-disk-soft-anti-affinity']),
    overProvisioning: settings['storage-over-provisioning-percentage'] / 100,
    minimalAvailable: settings['storage-minimal-available-percentage'] / 100,
    minimalAvailablePercent: settings['storage-minimal-available-percentage'],
    overProvisioningPercent: settings['storage-over-provisioning-percentage'],
  };
}
