import * as E from 'fp-ts/Either';
import type { Settings } from '../../api/settings.ts';
import type { PlacementView } from '../graph/types.ts';
import { isActiveReplica, placeRequest } from '../placement/place.ts';
import { volumeRequest } from '../placement/request.ts';
import type { FailedNodesMap, KubeNode } from './codecs.ts';
import type { ExtenderDeps } from './deps.ts';
import type { PodShorthornVolume } from './resolver.ts';
import { volumeFromClass } from './storage-class.ts';

/** A rule one volume puts on the pod's node: undefined = the node is fine, else why not. */
interface NodeRule {
  readonly check: (node: string) => string | undefined;
  /** Preemption cannot help (FailedAndUnresolvableNodes). */
  readonly unresolvable: boolean;
}

/** The outcome of filtering: nodes that pass and, for each other node, the first reason. */
export interface FilterOutcome {
  /** The nodes that pass, in request order: the candidate list itself (not a copy) when every node passes. */
  readonly passed: readonly string[];
  readonly failed: FailedNodesMap;
  readonly unresolvable: FailedNodesMap;
}

/** A volume the filter cannot judge (its Volume object is missing): the answer's Error. */
export interface FilterError {
  readonly _tag: 'FilterError';
  readonly message: string;
}

const ATTACHED_STATES = new Set(['attached', 'attaching']);

/** The rules of one bound volume: strict-local replica node, RWO attached elsewhere; else placement with the node as attach node. */
function boundRules(deps: ExtenderDeps, settings: Settings, name: string): E.Either<FilterError, NodeRule[]> {
  const v = deps.volume(name);
  if (v === undefined) return E.left({ _tag: 'FilterError', message: `volume "${name}" not found` });
  const rules: NodeRule[] = [];
  const replicas = deps.graph.replicasOf(name).filter((r) => isActiveReplica(deps.graph, r));
  if (v.spec.dataLocality === 'strict-local') {
    const at = replicas[0]?.nodeID;
    if (at !== undefined) rules.push({ unresolvable: true, check: (n) => (n === at ? undefined : `volume ${name} is strict-local: its replica is on ${at}`) });
    else rules.push(placementRule(deps.graph, settings, v, name));
  }
  const attachedTo = v.status?.currentNodeID || v.spec.nodeID || '';
  if ((v.spec.accessMode === 'rwo' || v.spec.accessMode === 'rwop') && attachedTo !== '' && ATTACHED_STATES.has(v.status?.state ?? '')) {
    rules.push({ unresolvable: false, check: (n) => (n === attachedTo ? undefined : `volume ${name} (${v.spec.accessMode}) is attached to ${attachedTo} and in use`) });
  }
  return E.right(rules);
}

/**
 * Can the volume's replicas be placed with this node as the attach node? Strict-local asks for each
 * node (only its disks are examined); otherwise the answer is the same for every node and is
 * computed once.
 */
function placementRule(graph: PlacementView, settings: Settings, v: Parameters<typeof volumeRequest>[0], label: string): NodeRule {
  const req = volumeRequest(v, settings);
  const count = v.spec.numberOfReplicas;
  if (req.dataLocality === 'strict-local') {
    return {
      unresolvable: false,
      check: (n) => {
        const r = placeRequest(graph, req, count, { attachNode: n, existing: [] });
        return E.isRight(r) ? undefined : `volume ${label} cannot be placed with ${n} as its attach node: ${r.left.message}`;
      },
    };
  }
  const once = placeRequest(graph, req, count, { existing: [] });
  const why = E.isLeft(once) ? `volume ${label} cannot be placed: ${once.left.message}` : undefined;
  return { unresolvable: false, check: () => why };
}

/** Can the node attach a Shorthorn volume at all: a Shorthorn agent (Node object), Ready, scheduling allowed. */
function nodeReason(graph: PlacementView, name: string, kube: KubeNode | undefined): string | undefined {
  const kubeReady = kube?.status?.conditions?.find((c) => c.type === 'Ready');
  if (kubeReady !== undefined && kubeReady.status !== 'True') return 'node is not Ready';
  const n = graph.node(name);
  if (n === undefined) return 'no Shorthorn agent runs on the node';
  if (!n.ready) return 'the Shorthorn agent of the node is not Ready';
  if (!n.schedulable) return 'Shorthorn scheduling is disabled on the node';
  return undefined;
}

/**
 * Filters the candidate nodes for a pod's Shorthorn volumes. A pod without any passes every node.
 * Each rejected node gets the first reason found; reasons are data, never errors.
 *
 * NOTE: 5,000 candidates per call are the common case and most pass, so the list of passing nodes
 * is only built from the first rejection on; until then `names` itself is the answer.
 */
export function filterNodes(deps: ExtenderDeps, names: readonly string[], kubeNodes: ReadonlyMap<string, KubeNode> | undefined, vols: readonly PodShorthornVolume[]): E.Either<FilterError, FilterOutcome> {
  if (vols.length === 0) return E.right({ passed: names, failed: {}, unresolvable: {} });
  const settings = deps.settings();
  const rules: NodeRule[] = [];
  for (const v of vols) {
    if (v._tag === 'Bound') {
      const r = boundRules(deps, settings, v.volumeName);
      if (E.isLeft(r)) return r;
      rules.push(...r.right);
    } else {
      rules.push(placementRule(deps.graph, settings, volumeFromClass(v.claim, v.sizeBytes, v.parameters, settings), `for claim ${v.claim}`));
    }
  }
  let passed: string[] | undefined;
  const failed: FailedNodesMap = {};
  const unresolvable: FailedNodesMap = {};
  for (let i = 0; i < names.length; i++) {
    const n = names[i] as string;
    let why = nodeReason(deps.graph, n, kubeNodes?.get(n));
    let hopeless = false;
    for (let k = 0; why === undefined && k < rules.length; k++) {
      const rule = rules[k] as NodeRule;
      why = rule.check(n);
      hopeless = rule.unresolvable;
    }
    if (why === undefined) {
      passed?.push(n);
      continue;
    }
    passed ??= names.slice(0, i);
    if (hopeless) unresolvable[n] = why;
    else failed[n] = why;
  }
  return E.right({ passed: passed ?? names, failed, unresolvable });
}
