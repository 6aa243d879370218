import type { Command } from '../api/cli/command.ts';
import { storeFor } from '../api/cli/connect.ts';
import { runPlacementServe, SERVE_FLAGS } from '../scheduler/index.ts';

/**
 * `shorthorn manager`: the cluster-level controllers in one process, what the placement Deployment
 * runs in Kubernetes (as `dev up` runs them on one machine): the placement controller with the
 * kube-scheduler extender, the volume lifecycle controller (state, robustness, endpoint,
 * deletion), and node liveness (agentState from the agents' heartbeats). One replica (Recreate): there is no leader election yet.
 */
export const managerCommand: Command = {
  name: 'manager',
  summary: "Run the cluster's controllers: placement (with the scheduler extender) and the volume lifecycle",
  flags: SERVE_FLAGS,
  run: async (inv) => {
    const { createLogger } = await import('../api/log.ts');
    const { startNodeLiveness, startVolumeLifecycle } = await import('../engine/instances/index.ts');
    const store = await storeFor(inv);
    const lifecycle = startVolumeLifecycle({ store, log: createLogger('volume-lifecycle') });
    const liveness = startNodeLiveness({ store, log: createLogger('node-liveness') });
    try {
      return await runPlacementServe(inv);
    } finally {
      await liveness.stop();
      await lifecycle.stop();
    }
  },
};
