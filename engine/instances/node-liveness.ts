import type { Node } from '../../api/codecs/node.ts';
import type { Logger } from '../../api/log.ts';
import type { ObjectStore } from '../../api/store/port.ts';

/** How often an agent writes its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 10_000;

/** A node whose last heartbeat is older than this is unreachable (four missed beats). */
export const HEARTBEAT_TIMEOUT_MS = 40_000;

/** RFC 3339 with seconds, as Kubernetes writes timestamps. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The agent side: writes Node.status.lastHeartbeatTime now and every interval. The agent is the
 * only writer of that field; a heartbeat that fails is logged and retried at the next beat.
 */
export function startHeartbeat(opts: { store: ObjectStore; node: string; log: Logger; intervalMs?: number; now?: () => number }): { stop(): void; beat(): Promise<void> } {
  const now = opts.now ?? Date.now;
  const beat = async () => {
    try {
      await opts.store.patch('Node', opts.node, { type: 'merge', value: { status: { lastHeartbeatTime: stamp(now()) } } }, { subresource: 'status' });
    } catch (e) {
      opts.log.warn('heartbeat failed', { err: e });
    }
  };
  const timer = setInterval(() => void beat(), opts.intervalMs ?? HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), beat };
}

/** What a node's agent state is, from its last heartbeat (pure). No heartbeat ever: unreachable. */
export function agentStateOf(n: Node, nowMs: number, timeoutMs = HEARTBEAT_TIMEOUT_MS): 'running' | 'unreachable' {
  const t = n.status?.lastHeartbeatTime;
  if (t === undefined) return 'unreachable';
  return nowMs - Date.parse(t) > timeoutMs ? 'unreachable' : 'running';
}

/**
 * The cluster side, run once per cluster (dev up, shorthorn manager): sets Node.status.agentState
 * from the heartbeats, so placement and the extender stop trusting the last conditions of a node
 * whose agent died (the agent cannot say so itself). The only writer of agentState.
 */
export function startNodeLiveness(opts: { store: ObjectStore; log: Logger; timeoutMs?: number; resyncMs?: number; now?: () => number }): { stop(): Promise<void>; runOnce(): Promise<void> } {
  const now = opts.now ?? Date.now;
  let running: Promise<void> | undefined;
  const runOnce = async () => {
    const nodes = (await opts.store.list('Node')).items;
    for (const n of nodes) {
      const state = agentStateOf(n, now(), opts.timeoutMs);
      if (n.status?.agentState === state) continue;
      if (state === 'unreachable') opts.log.warn('node agent unreachable: no heartbeat', { node: n.metadata.name, lastHeartbeatTime: n.status?.lastHeartbeatTime ?? 'never' });
      else opts.log.info('node agent running again', { node: n.metadata.name });
      await opts.store.patch('Node', n.metadata.name, { type: 'merge', value: { status: { agentState: state } } }, { subresource: 'status' }).catch((e: unknown) => opts.log.warn('agentState update failed', { node: n.metadata.name, err: e }));
    }
  };
  const tick = () => {
    if (running) return;
    running = runOnce().catch((e: unknown) => opts.log.warn('node liveness pass failed', { err: e })).finally(() => (running = undefined));
  };
  const timer = setInterval(tick, opts.resyncMs ?? 5000);
  tick();
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
