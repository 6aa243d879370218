import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../api/log.ts';
import type { ObjectStore } from '../../api/store/port.ts';
import { startAgent, type Agent, type AgentOptions } from '../../engine/instances/agent.ts';

/** argv prefix of the FAKE shorthorn (spec/helpers/fake-shorthorn.mjs). */
export const FAKE_SHORTHORN: readonly string[] = [process.execPath, fileURLToPath(new URL('./fake-shorthorn.mjs', import.meta.url))];

/** A quiet logger for tests (SHORTHORN_TEST_LOG=1 prints). */
export function testLogger(name: string): Logger {
  return createLogger(name, { sink: process.env.SHORTHORN_TEST_LOG === '1' ? (l) => process.stderr.write(l + '\n') : () => undefined, level: 'debug' });
}

/** A port range unlikely to collide with another test file running at the same time. */
export function randomPortRange(span = 200): [number, number] {
  const lo = 20000 + Math.floor(Math.random() * 200) * 200;
  return [lo, lo + span - 1];
}

/** Temp folders for a cluster of agents: one data root and one disk per node, and a shared cluster secret. */
export class AgentCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'shorthorn-agents-'));
  readonly agents = new Map<string, Agent>();
  readonly portRange = randomPortRange();
  constructor(
    readonly store: ObjectStore,
    readonly bin: readonly string[] = FAKE_SHORTHORN,
  ) {}

  private readonly nodeIndex = new Map<string, number>();

  /** Each node gets its own slice of the range (agents on one machine must not race for ports). */
  portRangeOf(node: string): [number, number] {
    if (!this.nodeIndex.has(node)) this.nodeIndex.set(node, this.nodeIndex.size);
    const lo = this.portRange[0] + (this.nodeIndex.get(node) as number) * 40;
    return [lo, lo + 39];
  }

  diskPath(node: string): string {
    return join(this.root, node, 'disk1');
  }

  dataRoot(node: string): string {
    return join(this.root, node, 'agent');
  }

  /** Starts (or restarts) the agent of a node with fast test timings. */
  async start(node: string, over: Partial<AgentOptions> = {}): Promise<Agent> {
    mkdirSync(this.diskPath(node), { recursive: true });
    const a = await startAgent({
      store: this.store,
      node,
      disks: [{ name: 'disk1', path: this.diskPath(node) }],
      dataRoot: this.dataRoot(node),
      clusterSecretFile: join(this.root, 'cluster.secret'),
      portRange: this.portRangeOf(node),
      host: '127.0.0.1',
      log: testLogger(`agent-${node}`),
      shorthornBin: this.bin,
      diskIntervalMs: 1000,
      probeTimeoutMs: 900,
      resyncMs: 300,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      startWaitMs: 3000,
      ...over,
    });
    this.agents.set(node, a);
    return a;
  }

  /** Stops every agent and its children, and removes the folders. */
  async close(): Promise<void> {
    for (const a of this.agents.values()) await a.stop({ stopChildren: true });
    this.agents.clear();
    rmSync(this.root, { recursive: true, force: true });
  }
}
