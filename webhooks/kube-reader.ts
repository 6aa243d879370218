import type { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/codecs/meta.ts';
import { KINDS, type Kind, type ObjectOf } from '../api/kinds.ts';
import { StoreError } from '../api/store/errors.ts';
import type { ListOptions } from '../api/store/port.ts';
import type { StoreReader } from './facts.ts';

function storeError(e: unknown, kind: Kind, name?: string): StoreError {
  const code = (e as { code?: unknown }).code;
  if (code === 404) return new StoreError('NotFound', `${KINDS[kind].plural}.${GROUP}${name === undefined ? '' : ` "${name}"`} not found`, { cause: e });
  return new StoreError('InternalError', `reading ${KINDS[kind].plural}.${GROUP}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * The chain's reads in a cluster: get and list of Shorthorn objects through the custom objects API
 * (the webhook server only reads; it needs get/list RBAC on shorthorn.io resources).
 */
export function kubeReader(api: Pick<CustomObjectsApi, 'getNamespacedCustomObject' | 'listNamespacedCustomObject'>, namespace: string): StoreReader {
  return {
    async get<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K>> {
      try {
        return (await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: KINDS[kind].plural, name })) as ObjectOf<K>;
      } catch (e) {
        throw storeError(e, kind, name);
      }
    },
    async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<{ items: ObjectOf<K>[]; resourceVersion: string }> {
      try {
        const r = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: KINDS[kind].plural, ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) })) as { items?: ObjectOf<K>[]; metadata?: { resourceVersion?: string } };
        return { items: r.items ?? [], resourceVersion: r.metadata?.resourceVersion ?? '' };
      } catch (e) {
        throw storeError(e, kind);
      }
    },
  };
}
