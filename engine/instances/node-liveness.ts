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

/** What the liveness loop last saw of a node's heartbeat, and when by its own monotonic clock. */
export interface HeartbeatSeen {
  readonly heartbeat: string;
  readonly seenAtMs: number;
}

/**
 * What a node's agent state is (pure). No heartbeat ever: unreachable. Otherwise unreachable once
 * the heartbeat has not changed for `timeoutMs` of the observer's own monotonic clock since it was
 * first seen with that value, as Kubernetes' node lifecycle controller judges kubelets (it compares
 * its observation times, never the timestamp's value): a restarted manager gives every node a full
 * timeout before it calls it dead, and a wall clock that jumps or differs between hosts calls no
 * node dead. Returns the new observation to keep.
 */
export function observeHeartbeat(heartbeat: string | undefined, seen: HeartbeatSeen | undefined, monoNowMs: number, timeoutMs = HEARTBEAT_TIMEOUT_MS): { state: 'running' | 'unreachable'; seen: HeartbeatSeen | undefined } {
  if (heartbeat === undefined) return { state: 'unreachable', seen: undefined };
  const now = seen !== undefined && seen.heartbeat === heartbeat ? seen : { heartbeat, seenAtMs: monoNowMs };
  return { state: monoNowMs - now.seenAtMs > timeoutMs ? 'unreachable' : 'running', seen: now };
}

/**
 * The cluster side, run once per cluster (dev up, shorthorn manager): sets Node.status.agentState
 * from the heartbeats, so placement and the extender stop trusting the last conditions of a node
 * whose agent died (the agent cannot say so itself). The only writer of agentState.
 */
export function startNodeLiveness(opts: { store: ObjectStore; log: Logger; timeoutMs?: number; resyncMs?: number; monotonicNow?: () => number }): { stop(): Promise<void>; runOnce(): Promise<void> } {
  const mono = opts.monotonicNow ?? (() => performance.now());
  const seen = new Map<string, HeartbeatSeen>();
  let running: Promise<void> | undefined;
  const runOnce = async () => {
    const nodes = (await opts.store.list('Node')).items;
    const names = new Set<string>();
    for (const n of nodes) {
      const name = n.metadata.name;
      names.add(name);
      const o = observeHeartbeat(n.status?.lastHeartbeatTime, seen.get(name), mono(), opts.timeoutMs);
      if (o.seen === undefined) seen.delete(name);
      else seen.set(name, o.seen);
      const state = o.state;
      if (n.status?.agentState === state) continue;
      if (state === 'unreachable') opts.log.warn('node agent unreachable: no heartbeat', { node: name, lastHeartbeatTime: n.status?.lastHeartbeatTime ?? 'never', timeoutMs: opts.timeoutMs ?? HEARTBEAT_TIMEOUT_MS });
      else opts.log.info('node agent running again', { node: name });
      await opts.store.patch('Node', name, { type: 'merge', value: { status: { agentState: state } } }, { subresource: 'status' }).catch((e: unknown) => opts.log.warn('agentState update failed', { node: name, err: e }));
    }
    for (const name of [...seen.keys()]) if (!names.has(name)) seen.delete(name);
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
