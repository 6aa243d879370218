import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '../../api/log.ts';
import { listenApiServer } from '../../api/store/apiserver.ts';
import { devKubeconfigYaml } from '../../api/store/connect.ts';
import { devKubeconfigPath } from '../../api/store/dev-paths.ts';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import type { Admission } from '../../api/store/port.ts';
import { createAdmission } from '../../webhooks/index.ts';
import { startPlacement } from '../../scheduler/index.ts';
import { startNodeLiveness, startVolumeLifecycle } from '../../engine/instances/index.ts';
import { AgentFleet, devNodes } from './agents.ts';

/** What `shorthorn dev up` runs, and tests start in-process. */
export interface DevClusterOptions {
  /** Data directory: store/, kubeconfig, logs/, nodes/. */
  readonly dataDir: string;
  readonly host: string;
  /** API port (0 = any free port). */
  readonly port: number;
  readonly log?: Logger;
  /** Simulated nodes, each an agent process with its own disk folders (0: control plane only). */
  readonly nodes?: number;
  readonly disksPerNode?: number;
  /** First port of the agents' ranges (node i gets base + 1000·i … + 999). */
  readonly portBase?: number;
}

/** A running local control plane. */
export interface DevCluster {
  readonly url: string;
  readonly kubeconfig: string;
  readonly store: EmbeddedStore;
  readonly dataDir: string;
  /** The simulated nodes' agents (pids, for tests that kill one). */
  readonly agents: AgentFleet | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the local control plane: the embedded store (durable under dataDir/store) with the
 * admission chain run in-process before every write, as an API server runs its webhooks, and the
 * Kubernetes-style REST API on host:port that the CLI and the agents use.
 */
export async function startDevCluster(opts: DevClusterOptions): Promise<DevCluster> {
  const dataDir = resolve(opts.dataDir);
  const log = opts.log ?? createLogger('dev');
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  // The chain reads the store it guards (settings, related objects): bind it after opening.
  let chain: Admission | undefined;
  const store = EmbeddedStore.open({
    dir: join(dataDir, 'store'),
    admission: (req) => {
      if (chain === undefined) throw new Error('invariant: admission chain not bound');
      return chain(req);
    },
  });
  chain = createAdmission({ store, log: log.with({ part: 'admission' }) });
  let api;
  try {
    api = await listenApiServer({ store, log }, opts.host, opts.port);
  } catch (e) {
    store.close();
    throw e;
  }
  const kubeconfig = devKubeconfigPath(dataDir);
  writeFileSync(kubeconfig, devKubeconfigYaml(api.url, store.namespace));
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
    await api.close();
    store.close();
  };
  let agents: AgentFleet | undefined;
  try {
    // The cluster-level controllers run in this process, on the store directly.
    const placement = await startPlacement({ store, log: log.with({ part: 'placement' }) });
    stops.push(() => placement.stop());
    const lifecycle = startVolumeLifecycle({ store, log: log.with({ part: 'volume-lifecycle' }) });
    stops.push(() => lifecycle.stop());
    const liveness = startNodeLiveness({ store, log: log.with({ part: 'node-liveness' }) });
    stops.push(() => liveness.stop());
    // The node agents are processes of their own, talking to the REST API as they would to Kubernetes.
    const count = opts.nodes ?? 0;
    if (count > 0) {
      const fleet = new AgentFleet(devNodes(dataDir, count, opts.disksPerNode ?? 2, opts.portBase ?? 10000), { server: api.url, dataDir, host: opts.host, log: log.with({ part: 'agents' }) });
      fleet.start();
      agents = fleet;
      stops.push(() => fleet.stop());
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: api.url, kubeconfig, store, dataDir, agents, stop };
}
