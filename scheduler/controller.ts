import { randomBytes } from 'node:crypto';
import type { Node } from '../api/codecs/node.ts';
import type { Replica } from '../api/codecs/replica.ts';
import type { Setting } from '../api/codecs/setting.ts';
import type { Volume } from '../api/codecs/volume.ts';
import { createLogger, type Logger } from '../api/log.ts';
import { resolveSettings, type Settings } from '../api/settings.ts';
import { isStoreError } from '../api/store/errors.ts';
import type { ObjectStore } from '../api/store/port.ts';
import { decide, type Decision, type ScheduledCondition } from './decide.ts';
import { nodeFacts, replicaInfo, type NodeFacts } from './graph/build.ts';
import { ClusterGraph } from './graph/cluster-graph.ts';
import { Informer, type InformerEvent } from './informer.ts';
import type { Pick } from './placement/place.ts';
import { replicaObjectsFor } from './replica-objects.ts';
import { WorkQueue } from './work-queue.ts';

export { LABEL_NODE, LABEL_VOLUME } from './replica-objects.ts';
/** How long a reuse is remembered: a replica reused this recently that fails again waits for staleReplicaTimeout instead. */
export const REUSE_MEMORY_MS = 10 * 60_000;
/** The Volume condition this controller owns. */
export const CONDITION_SCHEDULED = 'Scheduled';

/** What the placement controller needs: the store, and the clock and randomness tests replace. */
export interface ControllerDeps {
  readonly store: ObjectStore;
  readonly log?: Logger;
  /** Clock (epoch ms): staleReplicaTimeout is measured with it. */
  readonly now?: () => number;
  /** 8 hex digits for replica names and data directories. */
  readonly randomHex?: () => string;
  /** Volumes reconciled at once (each volume is only ever reconciled by one pass at a time). */
  readonly concurrency?: number;
  /** Full resync: every volume is looked at again this often. */
  readonly resyncMs?: number;
}

/**
 * The placement controller: keeps the graph current from informers on Node, Replica, Volume and
 * Setting, and reconciles each Volume level-based, one step per pass (decide.ts), writing Replica
 * objects and the Volume's Scheduled condition. Placement and the reservation of the picks in the
 * graph happen synchronously, before any await, so concurrent passes never overcommit a disk.
 * Run one per cluster (leader-elected in Kubernetes).
 */
export class PlacementController {
  readonly graph = new ClusterGraph();
  private settings: Settings = resolveSettings({});
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly hex: () => string;
  private readonly queue: WorkQueue;
  private readonly volumes: Informer<'Volume'>;
  private readonly informers: Informer<'Node' | 'Replica' | 'Setting' | 'Volume'>[];
  private readonly settingsInformer: Informer<'Setting'>;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Failed replicas this controller reused, and when: one that fails again soon is replaced, not reused again. */
  private readonly reused = new Map<string, number>();
  /** Volumes whose last pass could not place every replica. */
  private readonly unscheduled = new Set<string>();

  constructor(private readonly deps: ControllerDeps) {
    this.log = deps.log ?? createLogger('placement');
    this.now = deps.now ?? Date.now;
    this.hex = deps.randomHex ?? (() => randomBytes(4).toString('hex'));
    this.queue = new WorkQueue((name) => this.reconcile(name), { concurrency: deps.concurrency ?? 4, log: this.log });
    const nodes = new Informer(deps.store, 'Node', { log: this.log, onEvent: (e) => this.onNode(e) });
    const replicas = new Informer(deps.store, 'Replica', { log: this.log, onEvent: (e) => this.onReplica(e) });
    this.settingsInformer = new Informer(deps.store, 'Setting', { log: this.log, onEvent: () => this.onSettings() });
    this.volumes = new Informer(deps.store, 'Volume', { log: this.log, onEvent: (e) => this.queue.add(e.object.metadata.name) });
    this.informers = [this.settingsInformer, nodes, replicas, this.volumes] as Informer<'Node' | 'Replica' | 'Setting' | 'Volume'>[];
  }

  /** Starts the informers (graph first, volumes last) and the periodic resync. */
  async start(): Promise<void> {
    for (const i of this.informers) await i.start();
    const every = this.deps.resyncMs ?? 60_000;
    this.resyncTimer = setInterval(() => this.resync(), every);
    this.resyncTimer.unref();
  }

  /** Stops watching and waits for the passes in flight. */
  async stop(): Promise<void> {
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    for (const i of this.informers) i.stop();
    await this.queue.stop();
  }

  /** Queues every volume (the periodic full reconcile; also after settings change). */
  resync(): void {
    for (const v of this.volumes.list()) this.queue.add(v.metadata.name);
  }

  /** Resolves when no pass is queued or running (tests wait on this, never on time). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** The Volume of this name, as last seen. */
  volume(name: string): Volume | undefined {
    return this.volumes.get(name);
  }

  /** The current settings. */
  currentSettings(): Settings {
    return this.settings;
  }

  private onSettings(): void {
    const raw: Record<string, string> = {};
    for (const s of this.settingsInformer.list() as Setting[]) raw[s.metadata.name] = s.value;
    this.settings = resolveSettings(raw);
    this.resync();
  }

  private onNode(e: InformerEvent<'Node'>): void {
    if (e.type === 'delete') {
      this.graph.removeNode(e.object.metadata.name);
      this.resync();
      return;
    }
    const facts = nodeFacts(e.object as Node);
    const before = e.type === 'update' ? nodeFacts(e.old as Node) : undefined;
    // Heartbeats and fields placement does not read change nothing here.
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(facts)) return;
    this.graph.upsertNode(facts);
    // Flags, topology, tags or the set of disks changed: any volume may have a step to take.
    // Only the capacity figures changed: only volumes still waiting for space may.
    if (before === undefined || shapeOf(before) !== shapeOf(facts)) this.resync();
    else for (const v of this.unscheduled) this.queue.add(v);
  }

  private onReplica(e: InformerEvent<'Replica'>): void {
    const r = e.object as Replica;
    if (e.type === 'delete') this.graph.removeReplica(r.metadata.name);
    else this.graph.upsertReplica(replicaInfo(r));
    this.queue.add(r.spec.volumeName);
  }

  /** One pass for one volume: decide, take the step, update the Scheduled condition. */
  async reconcile(name: string): Promise<void> {
    const volume = this.volumes.get(name);
    if (volume === undefined || volume.metadata.deletionTimestamp !== undefined) {
      // Deleting a volume's replicas is the volume lifecycle controller's job (engine/instances).
      this.unscheduled.delete(name);
      return;
    }
    const now = this.now();
    for (const [r, at] of this.reused) if (now - at > REUSE_MEMORY_MS) this.reused.delete(r);
    const d = decide(this.graph, volume, this.settings, now, { noReuse: new Set(this.reused.keys()) });
    if (d.scheduled.status === 'False') this.unscheduled.add(name);
    else this.unscheduled.delete(name);
    const log = this.log.with({ kind: 'Volume', name });
    // Reserve before any await: the graph counts the picks at once, so no other pass can take the same space.
    const created = d.step.kind === 'create' ? this.reserve(volume, d.step.picks) : [];
    await this.writeCondition(volume, d.scheduled).catch((err: unknown) => {
      if (isStoreError(err, 'Conflict') || isStoreError(err, 'NotFound')) this.queue.add(name);
      else throw err;
    });
    await this.act(volume, d, created, log);
    if (d.retryAfterMs !== undefined) this.queue.addAfter(name, d.retryAfterMs);
  }

  private reserve(volume: Volume, picks: readonly Pick[]): Replica[] {
    const objects = replicaObjectsFor(volume, picks, this.hex);
    for (const r of objects) this.graph.upsertReplica(replicaInfo(r));
    return objects;
  }

  private async act(volume: Volume, d: Decision, created: readonly Replica[], log: Logger): Promise<void> {
    const step = d.step;
    const store = this.deps.store;
    switch (step.kind) {
      case 'create':
        for (const r of created) {
          try {
            await store.create('Replica', r);
            log.info('replica scheduled', { replica: r.metadata.name, node: r.spec.nodeID, disk: r.spec.diskID });
          } catch (err) {
            this.graph.removeReplica(r.metadata.name);
            log.warn('replica create failed', { replica: r.metadata.name, err });
            this.queue.add(volume.metadata.name);
          }
        }
        return;
      case 'reuse':
        log.info('reusing failed replica', { replica: step.replica, why: step.why });
        this.reused.set(step.replica, this.now());
        await store.patch('Replica', step.replica, { type: 'merge', value: { spec: { failedAt: '' } } }).catch(ignoreGone);
        return;
      case 'evict':
        log.info('moving replica', { replica: step.replica, why: step.why });
        await store.patch('Replica', step.replica, { type: 'merge', value: { spec: { evictionRequested: true } } }).catch(ignoreGone);
        return;
      case 'delete': {
        log.info('removing replica', { replica: step.replica, why: step.why });
        await store.delete('Replica', step.replica).catch(ignoreGone);
        const info = this.graph.replica(step.replica);
        // Finalizers may keep it a while; it no longer counts as serving either way.
        if (info !== undefined) this.graph.upsertReplica({ ...info, deleting: true });
        return;
      }
      case 'wait':
      case 'none':
        return;
    }
  }

  private async writeCondition(volume: Volume, c: ScheduledCondition): Promise<void> {
    const conds = volume.status?.conditions ?? [];
    const cur = conds.find((x) => x.type === CONDITION_SCHEDULED);
    if (cur !== undefined && cur.status === c.status && cur.reason === c.reason && (cur.message ?? '') === c.message) return;
    const next = {
      type: CONDITION_SCHEDULED,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastTransitionTime: cur !== undefined && cur.status === c.status && cur.lastTransitionTime !== undefined ? cur.lastTransitionTime : new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    const status = { ...(volume.status ?? {}), conditions: [...conds.filter((x) => x.type !== CONDITION_SCHEDULED), next] };
    await this.deps.store.updateStatus('Volume', { ...volume, status });
  }
}

/** What of a node decides eligibility (everything but the capacity figures), as a comparable string. */
function shapeOf(f: NodeFacts): string {
  return JSON.stringify({ ...f, disks: f.disks.map((d) => ({ ...d, availableBytes: 0, maximumBytes: 0 })) });
}

function ignoreGone(err: unknown): void {
  if (!isStoreError(err, 'NotFound')) throw err;
}
