import * as E from 'fp-ts/Either';
import { CommandError, UsageError, type Invocation } from '../../api/cli/command.ts';
import { resolveSettings } from '../../api/settings.ts';
import { isStoreError } from '../../api/store/errors.ts';
import type { ObjectStore } from '../../api/store/port.ts';
import { buildGraph } from '../graph/build.ts';
import { placeReplicas } from '../placement/place.ts';
import { formatSimulateOutput, missingReplicas, type SimulateOutput } from '../simulate.ts';
import { outputFormat } from './simulate.ts';
import { storeFor } from './connect.ts';

/** Explains one volume against a store: its replicas, and where its missing ones would go or why they cannot. */
export async function explainVolume(store: ObjectStore, name: string): Promise<SimulateOutput & { replicas: { name: string; node: string; disk: string; failed: boolean }[] }> {
  let volume;
  try {
    volume = await store.get('Volume', name);
  } catch (e) {
    if (isStoreError(e, 'NotFound')) throw new CommandError(`volume "${name}" not found in namespace ${store.namespace}`);
    throw e;
  }
  const [nodes, replicas, settings] = await Promise.all([store.list('Node'), store.list('Replica'), store.list('Setting')]);
  const graph = buildGraph(nodes.items, replicas.items);
  const s = resolveSettings(Object.fromEntries(settings.items.map((x) => [x.metadata.name, x.value])));
  const r = placeReplicas(graph, volume, s, missingReplicas(graph, volume));
  const picks = (E.isRight(r) ? r.right.picks : r.left.placed).map((p) => ({ node: p.node, disk: p.disk }));
  return {
    replicas: graph.replicasOf(name).map((x) => ({ name: x.name, node: x.nodeID, disk: x.diskID, failed: x.failed })),
    placements: E.isRight(r) || picks.length > 0 ? { [name]: picks } : {},
    unschedulable: E.isLeft(r) ? { [name]: { reasons: Object.fromEntries(r.left.reasons), message: r.left.message } } : {},
  };
}

/** `shorthorn placement explain VOLUME`: the same answer as simulate, for one volume of the running cluster. */
export async function runExplain(inv: Invocation): Promise<number> {
  const [name, ...extra] = inv.positionals;
  if (name === undefined || extra.length > 0) throw new UsageError('expected exactly one VOLUME');
  const format = outputFormat(inv);
  const store = await storeFor(inv);
  const out = await explainVolume(store, name);
  if (format === 'json') {
    inv.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  const have = out.replicas.map((x) => `${x.node}/${x.disk}${x.failed ? ' (failed)' : ''}`).join(', ');
  inv.stdout.write(`${name}: replicas ${have === '' ? 'none' : have}\n`);
  inv.stdout.write(`missing: ${formatSimulateOutput(out).replace('(nothing to place)', 'none, nothing to place')}\n`);
  return 0;
}
