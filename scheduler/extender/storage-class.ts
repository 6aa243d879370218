import { API_VERSION } from '../../api/codecs/meta.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import type { Settings } from '../../api/settings.ts';

const LOCALITIES = ['disabled', 'best-effort', 'strict-local'] as const;
const OVERRIDES = ['ignored', 'enabled', 'disabled'] as const;

function list(s: string | undefined): string[] | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function oneOf<T extends string>(values: readonly T[], s: string | undefined): T | undefined {
  return values.find((v) => v === s);
}

/**
 * The Volume a WaitForFirstConsumer claim will become, from its StorageClass parameters (the
 * Longhorn names: numberOfReplicas, dataLocality, diskSelector, nodeSelector as comma lists, the
 * anti-affinity overrides), with the settings' defaults for what they leave out. Unknown or invalid
 * values fall back to the defaults, as admission would refuse them later with a clear message.
 */
export function volumeFromClass(claim: string, sizeBytes: number, params: Readonly<Record<string, string>>, settings: Settings): Volume {
  const n = Number(params['numberOfReplicas']);
  const locality = oneOf(LOCALITIES, params['dataLocality']) ?? (settings['default-data-locality'] as (typeof LOCALITIES)[number]);
  // strict-local means exactly one replica (admission refuses anything else), so that is the default for it.
  const replicas = params['numberOfReplicas'] !== undefined && Number.isInteger(n) && n >= 1 && n <= 20 ? n : locality === 'strict-local' ? 1 : settings['default-replica-count'];
  const diskSelector = list(params['diskSelector']);
  const nodeSelector = list(params['nodeSelector']);
  const zone = oneOf(OVERRIDES, params['replicaZoneSoftAntiAffinity']);
  const node = oneOf(OVERRIDES, params['replicaSoftAntiAffinity']);
  const disk = oneOf(OVERRIDES, params['replicaDiskSoftAntiAffinity']);
  return {
    apiVersion: API_VERSION,
    kind: 'Volume',
    metadata: { name: `claim-${claim}` },
    spec: {
      size: String(sizeBytes),
      numberOfReplicas: replicas,
      dataLocality: locality,
      accessMode: 'rwo',
      frontend: 'iscsi',
      ...(diskSelector ? { diskSelector } : {}),
      ...(nodeSelector ? { nodeSelector } : {}),
      ...(zone ? { replicaZoneSoftAntiAffinity: zone } : {}),
      ...(node ? { replicaSoftAntiAffinity: node } : {}),
      ...(disk ? { replicaDiskSoftAntiAffinity: disk } : {}),
    },
  };
}
