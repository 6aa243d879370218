import type { ClaimView, KubeVolumeView, PersistentVolumeView, StorageClassView } from './resolver.ts';

interface Entry<T> {
  readonly value: Promise<T | undefined>;
  readonly expiresAt: number;
}

/** How long answers are kept, per kind: claims change when they bind, classes and bound PVs hardly ever. */
export interface CacheTtls {
  readonly claimMs: number;
  readonly persistentVolumeMs: number;
  readonly storageClassMs: number;
}

const DEFAULT_TTLS: CacheTtls = { claimMs: 2_000, persistentVolumeMs: 30_000, storageClassMs: 60_000 };

/**
 * A KubeVolumeView that remembers answers for a short time, so the filter and prioritize calls of
 * one scheduling cycle (and pods sharing claims) cost one GET per object. Lookups in flight are
 * shared; failures are not remembered. An unbound claim is kept for the claim TTL only, so a
 * binding is seen within it.
 */
export class CachedKubeView implements KubeVolumeView {
  private readonly claims = new Map<string, Entry<ClaimView>>();
  private readonly pvs = new Map<string, Entry<PersistentVolumeView>>();
  private readonly classes = new Map<string, Entry<StorageClassView>>();

  constructor(
    private readonly inner: KubeVolumeView,
    private readonly now: () => number = Date.now,
    private readonly ttls: CacheTtls = DEFAULT_TTLS,
    private readonly maxEntries = 50_000,
  ) {}

  private cached<T>(m: Map<string, Entry<T>>, key: string, ttl: number, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const t = this.now();
    const e = m.get(key);
    if (e !== undefined && e.expiresAt > t) return e.value;
    if (m.size >= this.maxEntries) m.clear();
    const value = load();
    m.set(key, { value, expiresAt: t + ttl });
    value.catch(() => m.delete(key));
    return value;
  }

  claim(namespace: string, name: string): Promise<ClaimView | undefined> {
    return this.cached(this.claims, `${namespace}/${name}`, this.ttls.claimMs, () => this.inner.claim(namespace, name));
  }

  persistentVolume(name: string): Promise<PersistentVolumeView | undefined> {
    return this.cached(this.pvs, name, this.ttls.persistentVolumeMs, () => this.inner.persistentVolume(name));
  }

  storageClass(name: string): Promise<StorageClassView | undefined> {
    return this.cached(this.classes, name, this.ttls.storageClassMs, () => this.inner.storageClass(name));
  }
}
