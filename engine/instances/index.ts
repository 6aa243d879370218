/** The node agent's instance supervisor and the volume lifecycle controller. */
export { startAgent, defaultShorthornBin, type Agent, type AgentOptions } from './agent.ts';
export { startVolumeLifecycle, reconcileVolumes, type VolumeLifecycleOptions } from './volume-lifecycle.ts';
export { startNodeLiveness, startHeartbeat, observeHeartbeat, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS } from './node-liveness.ts';
export { computeVolumeStatus, iscsiUrl, type VolumeLifecycleStatus } from './volume-state.ts';
export { engineName, engineKey } from './engines.ts';
export { replicaKey, replicaDataDir } from './replicas.ts';
export { deriveVolumeSecret, ensureClusterSecret, volumeSecretFile } from './secret.ts';
export { Supervisor, type ChildSpec, type ChildView } from './supervisor.ts';
