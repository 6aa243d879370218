import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { Node } from '../api/codecs/node.ts';
import { Replica } from '../api/codecs/replica.ts';
import { Volume } from '../api/codecs/volume.ts';
import { decode, inputError, type InputError } from '../api/decode.ts';
import { quantityBytes } from '../api/quantity.ts';
import { parseSettingValue, resolveSettings, type Settings } from '../api/settings.ts';
import { buildGraph } from './graph/build.ts';
import type { ClusterGraph } from './graph/cluster-graph.ts';
import { isActiveReplica, placeReplicas, type Pick } from './placement/place.ts';

/** The file `shorthorn placement simulate --input` reads. */
export const SimulateInput = t.intersection([
  t.type({ nodes: t.array(Node) }),
  t.partial({
    replicas: t.array(Replica),
    volumes: t.array(Volume),
    settings: t.record(t.string, t.union([t.string, t.number, t.boolean])),
  }),
]);
/** The decoded simulate input. */
export type SimulateInput = t.TypeOf<typeof SimulateInput>;

/** What simulate prints with `-o json`. */
export interface SimulateOutput {
  readonly placements: Record<string, { node: string; disk: string }[]>;
  readonly unschedulable: Record<string, { reasons: Record<string, number>; message: string }>;
}

/** Decodes the simulate input, settings included: the message names the field that is wrong. */
export function decodeSimulateInput(raw: unknown): E.Either<InputError, { input: SimulateInput; settings: Settings }> {
  const r = decode(SimulateInput, raw);
  if (E.isLeft(r)) return r;
  const values: Record<string, string> = {};
  for (const [name, v] of Object.entries(r.right.settings ?? {})) {
    const p = parseSettingValue(name, String(v));
    if (E.isLeft(p)) return E.left(inputError(`settings.${name}`, p.left));
    values[name] = String(v);
  }
  return E.right({ input: r.right, settings: resolveSettings(values) });
}

/** Records picks in the graph as replicas, so later volumes see the space they take. */
export function recordPicks(graph: ClusterGraph, volume: Volume, picks: readonly Pick[], names: readonly string[]): void {
  picks.forEach((p, i) => {
    graph.upsertReplica({
      name: names[i] as string,
      volumeName: volume.metadata.name,
      nodeID: p.node,
      diskID: p.disk,
      sizeBytes: quantityBytes(volume.spec.size),
      failed: false,
      failedAtMs: NaN,
      evictionRequested: false,
      running: false,
      deleting: false,
    });
  });
}

/** How many replicas a volume lacks in the graph: numberOfReplicas − its active replicas. */
export function missingReplicas(graph: ClusterGraph, volume: Volume): number {
  const active = graph.replicasOf(volume.metadata.name).filter((r) => isActiveReplica(graph, r)).length;
  return Math.max(0, volume.spec.numberOfReplicas - active);
}

/** Places every volume's missing replicas in input order, each seeing the ones placed before it. */
export function simulate(input: SimulateInput, settings: Settings): SimulateOutput {
  const graph = buildGraph(input.nodes, input.replicas ?? []);
  const placements: SimulateOutput['placements'] = {};
  const unschedulable: SimulateOutput['unschedulable'] = {};
  for (const v of input.volumes ?? []) {
    const name = v.metadata.name;
    const missing = missingReplicas(graph, v);
    const r = placeReplicas(graph, v, settings, missing);
    const picks = E.isRight(r) ? r.right.picks : r.left.placed;
    if (E.isRight(r) || picks.length > 0) placements[name] = picks.map((p) => ({ node: p.node, disk: p.disk }));
    recordPicks(graph, v, picks, picks.map((_, i) => `${name}-simulated-${i}`));
    if (E.isLeft(r)) unschedulable[name] = { reasons: Object.fromEntries(r.left.reasons), message: r.left.message };
  }
  return { placements, unschedulable };
}

/** The plain-text rendering: one line per volume. */
export function formatSimulateOutput(out: SimulateOutput): string {
  const lines: string[] = [];
  const names = [...new Set([...Object.keys(out.placements), ...Object.keys(out.unschedulable)])];
  for (const name of names) {
    const picks = out.placements[name] ?? [];
    const where = picks.length === 0 ? '(nothing to place)' : picks.map((p) => `${p.node}/${p.disk}`).join(', ');
    const why = out.unschedulable[name];
    lines.push(why === undefined ? `${name}: ${where}` : `${name}: ${picks.length > 0 ? `${where}; ` : ''}unschedulable: ${why.message}`);
  }
  return lines.join('\n');
}
