import * as E from 'fp-ts/Either';
import type { Node } from '../api/codecs/node.ts';
import type { Replica } from '../api/codecs/replica.ts';
import type { Setting } from '../api/codecs/setting.ts';
import { resolveSettings } from '../api/settings.ts';
import { isStoreError } from '../api/store/errors.ts';
import type { ObjectStore } from '../api/store/port.ts';
import type { Facts, FactNeeds } from './context.ts';
import { violation, type Violation } from './findings.ts';

/** What the chain reads: the two read verbs of the object store. */
export type StoreReader = Pick<ObjectStore, 'get' | 'list'>;

/** Reads the facts a request needs; a store failure becomes a refusal (503) that says what failed. */
export async function readFacts(store: StoreReader, needs: FactNeeds): Promise<E.Either<Violation, Facts>> {
  try {
    const [settings, nodes, replicas, volume] = await Promise.all([
      needs.settings ? store.list('Setting') : Promise.resolve({ items: [] as Setting[] }),
      needs.nodes ? store.list('Node') : Promise.resolve({ items: [] as Node[] }),
      needs.replicas ? store.list('Replica') : Promise.resolve({ items: [] as Replica[] }),
      needs.volumeName === undefined ? Promise.resolve('unknown' as const) : volumeState(store, needs.volumeName),
    ]);
    const raw: Record<string, string> = {};
    for (const s of settings.items) if (typeof s.value === 'string') raw[s.metadata.name] = s.value;
    return E.right({ settings: resolveSettings(raw), nodes: nodes.items, replicas: replicas.items, volume });
  } catch (e) {
    return E.left(violation('unreadable', '', `admission could not read the cluster state: ${e instanceof Error ? e.message : String(e)}`, 503));
  }
}

async function volumeState(store: StoreReader, name: string): Promise<Facts['volume']> {
  try {
    const v = await store.get('Volume', name);
    return v.metadata.deletionTimestamp === undefined ? 'present' : 'deleting';
  } catch (e) {
    if (isStoreError(e, 'NotFound')) return 'missing';
    throw e;
  }
}
