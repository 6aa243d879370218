import * as E from 'fp-ts/Either';
import { parseBytes } from '../../api/quantity.ts';
import type { Pod } from './codecs.ts';

/** The CSI driver name of Shorthorn volumes (PersistentVolume.spec.csi.driver, StorageClass.provisioner). */
export const CSI_DRIVER = 'driver.shorthorn.io';

/** The PVC fields the extender reads. */
export interface ClaimView {
  readonly name: string;
  readonly namespace: string;
  /** spec.volumeName: the bound PV ('' or absent when unbound). */
  readonly volumeName?: string;
  readonly storageClassName?: string;
  /** spec.resources.requests.storage */
  readonly requestStorage?: string;
}

/** The PV fields the extender reads. */
export interface PersistentVolumeView {
  readonly name: string;
  readonly csiDriver?: string;
  readonly volumeHandle?: string;
}

/** The StorageClass fields the extender reads. */
export interface StorageClassView {
  readonly name: string;
  readonly provisioner: string;
  readonly volumeBindingMode?: string;
  readonly parameters?: Readonly<Record<string, string>>;
}

/**
 * The narrow read port the extender needs of Kubernetes: PVCs, PVs and StorageClasses. An
 * in-memory implementation serves tests and the bench (memory-kube-view.ts); client-kube-view.ts
 * reads a cluster through client-node. Lookups answer undefined for objects that do not exist.
 */
export interface KubeVolumeView {
  claim(namespace: string, name: string): Promise<ClaimView | undefined>;
  persistentVolume(name: string): Promise<PersistentVolumeView | undefined>;
  storageClass(name: string): Promise<StorageClassView | undefined>;
}

/** A Shorthorn volume a pod uses: bound to a Volume object, or still to be provisioned (WaitForFirstConsumer). */
export type PodShorthornVolume =
  | { readonly _tag: 'Bound'; readonly claim: string; readonly volumeName: string }
  | { readonly _tag: 'Unbound'; readonly claim: string; readonly sizeBytes: number; readonly parameters: Readonly<Record<string, string>> };

/** Why a pod's volumes could not be resolved (the filter answers with Error set). */
export interface ResolveError {
  readonly _tag: 'ResolveError';
  readonly message: string;
}

/**
 * Resolves a pod's volumes: PVC → PV of the Shorthorn CSI driver → Volume name (the volumeHandle);
 * an unbound PVC of a Shorthorn StorageClass becomes an Unbound entry with the class's parameters.
 * Volumes of other drivers are left out. A missing PVC or a bound PV that does not exist is an error.
 */
export async function resolvePodVolumes(view: KubeVolumeView, pod: Pod): Promise<E.Either<ResolveError, PodShorthornVolume[]>> {
  const ns = pod.metadata.namespace ?? 'default';
  const out: PodShorthornVolume[] = [];
  for (const v of pod.spec.volumes ?? []) {
    const ref = v.persistentVolumeClaim;
    if (ref === undefined || ref === null) continue;
    const claim = await view.claim(ns, ref.claimName);
    if (claim === undefined) return E.left({ _tag: 'ResolveError', message: `persistentvolumeclaim "${ns}/${ref.claimName}" not found` });
    if (claim.volumeName !== undefined && claim.volumeName !== '') {
      const pv = await view.persistentVolume(claim.volumeName);
      if (pv === undefined) return E.left({ _tag: 'ResolveError', message: `persistentvolume "${claim.volumeName}" of claim "${ns}/${claim.name}" not found` });
      if (pv.csiDriver === CSI_DRIVER && pv.volumeHandle !== undefined) out.push({ _tag: 'Bound', claim: claim.name, volumeName: pv.volumeHandle });
      continue;
    }
    if (claim.storageClassName === undefined || claim.storageClassName === '') continue;
    const sc = await view.storageClass(claim.storageClassName);
    if (sc === undefined) return E.left({ _tag: 'ResolveError', message: `storageclass "${claim.storageClassName}" of claim "${ns}/${claim.name}" not found` });
    if (sc.provisioner !== CSI_DRIVER) continue;
    const size = parseBytes(claim.requestStorage ?? '0');
    if (E.isLeft(size)) return E.left({ _tag: 'ResolveError', message: `claim "${ns}/${claim.name}": spec.resources.requests.storage: ${size.left}` });
    out.push({ _tag: 'Unbound', claim: claim.name, sizeBytes: size.right, parameters: sc.parameters ?? {} });
  }
  return E.right(out);
}

/** An in-memory KubeVolumeView for tests and benchmarks. */
export class MemoryKubeView implements KubeVolumeView {
  readonly claims = new Map<string, ClaimView>();
  readonly volumes = new Map<string, PersistentVolumeView>();
  readonly classes = new Map<string, StorageClassView>();

  async claim(namespace: string, name: string): Promise<ClaimView | undefined> {
    return this.claims.get(`${namespace}/${name}`);
  }

  async persistentVolume(name: string): Promise<PersistentVolumeView | undefined> {
    return this.volumes.get(name);
  }

  async storageClass(name: string): Promise<StorageClassView | undefined> {
    return this.classes.get(name);
  }

  /** Adds a claim (keyed namespace/name). */
  addClaim(c: ClaimView): this {
    this.claims.set(`${c.namespace}/${c.name}`, c);
    return this;
  }
}
