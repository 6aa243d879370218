import * as k8s from '@kubernetes/client-node';
import type { ClaimView, KubeVolumeView, PersistentVolumeView, StorageClassView } from './resolver.ts';

function isNotFound(e: unknown): boolean {
  return e instanceof k8s.ApiException && e.code === 404;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * KubeVolumeView over a cluster (CoreV1Api, StorageV1Api). Each lookup is one GET; `placement
 * serve` wraps it in a CachedKubeView (short TTLs). NOTE: an informer cache of PVCs, PVs and
 * StorageClasses would remove the GETs altogether on large clusters.
 */
export class ClientKubeView implements KubeVolumeView {
  private readonly core: k8s.CoreV1Api;
  private readonly storage: k8s.StorageV1Api;

  constructor(kc: k8s.KubeConfig) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.storage = kc.makeApiClient(k8s.StorageV1Api);
  }

  async claim(namespace: string, name: string): Promise<ClaimView | undefined> {
    const c = await orUndefined(this.core.readNamespacedPersistentVolumeClaim({ name, namespace }));
    if (c === undefined) return undefined;
    const storage = c.spec?.resources?.requests?.['storage'];
    return {
      name,
      namespace,
      ...(c.spec?.volumeName !== undefined ? { volumeName: c.spec.volumeName } : {}),
      ...(c.spec?.storageClassName !== undefined ? { storageClassName: c.spec.storageClassName } : {}),
      ...(storage !== undefined ? { requestStorage: String(storage) } : {}),
    };
  }

  async persistentVolume(name: string): Promise<PersistentVolumeView | undefined> {
    const pv = await orUndefined(this.core.readPersistentVolume({ name }));
    if (pv === undefined) return undefined;
    return { name, ...(pv.spec?.csi !== undefined ? { csiDriver: pv.spec.csi.driver, volumeHandle: pv.spec.csi.volumeHandle } : {}) };
  }

  async storageClass(name: string): Promise<StorageClassView | undefined> {
    const sc = await orUndefined(this.storage.readStorageClass({ name }));
    if (sc === undefined) return undefined;
    return { name, provisioner: sc.provisioner, ...(sc.volumeBindingMode !== undefined ? { volumeBindingMode: sc.volumeBindingMode } : {}), ...(sc.parameters !== undefined ? { parameters: sc.parameters } : {}) };
  }
}
