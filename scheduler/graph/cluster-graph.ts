import { DirectedGraph } from 'graphology';
import type { DiskFacts, NodeFacts } from './build.ts';
import type { DiskInfo, NodeInfo, PlacementView, RackInfo, ReplicaInfo, ZoneInfo } from './types.ts';

/** Graph node keys: one namespace per level so names never collide across levels. */
const key = {
  region: (r: string) => `region:${r}`,
  zone: (z: string) => `zone:${z}`,
  rack: (z: string, r: string) => `rack:${z}/${r}`,
  node: (n: string) => `node:${n}`,
  disk: (n: string, d: string) => `disk:${n}/${d}`,
  replica: (r: string) => `replica:${r}`,
};

function byName<T>(name: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
}

function insertSorted<T>(arr: T[], item: T, name: (x: T) => string): void {
  let lo = 0;
  let hi = arr.length;
  const k = name(item);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (name(arr[mid] as T) < k) lo = mid + 1;
    else hi = mid;
  }
  arr.splice(lo, 0, item);
}

function removeItem<T>(arr: T[], item: T): void {
  const i = arr.indexOf(item);
  if (i >= 0) arr.splice(i, 1);
}

/** Is the disk usable for new replicas, as far as its own and its node's flags go? */
function usable(n: NodeFacts, d: DiskFacts): boolean {
  return n.ready && n.schedulable && !n.evictionRequested && d.ready && d.schedulable && !d.evictionRequested && d.maximumBytes - d.reservedBytes > 0;
}

/**
 * The cluster as a graphology graph (region → zone → rack → node → disk → replica edges) plus the
 * sorted domain arrays and per-domain `minUsage` aggregates that make placement near O(domains).
 * Updated incrementally: a node or replica change touches its own path to the root only.
 * Concurrency contract: single-threaded JS; callers mutate it only between awaits.
 */
export class ClusterGraph implements PlacementView {
  /** The failure-domain graph; node attributes hold the info records. */
  readonly graph = new DirectedGraph();
  readonly zones: ZoneInfo[] = [];
  private readonly zoneMap = new Map<string, ZoneInfo>();
  private readonly rackMap = new Map<string, RackInfo>();
  private readonly nodeMap = new Map<string, NodeInfo>();
  private readonly replicaMap = new Map<string, ReplicaInfo>();
  /** Replicas by disk key, also for disks not (yet) known: they attach when the disk appears. */
  private readonly byDisk = new Map<string, Map<string, ReplicaInfo>>();
  private readonly byVolume = new Map<string, Map<string, ReplicaInfo>>();
  private sortedDisks: DiskInfo[] | undefined;
  private disksTotal = 0;

  get diskCount(): number {
    return this.disksTotal;
  }

  get nodeCount(): number {
    return this.nodeMap.size;
  }

  node(name: string): NodeInfo | undefined {
    return this.nodeMap.get(name);
  }

  disk(nodeName: string, diskName: string): DiskInfo | undefined {
    return this.nodeMap.get(nodeName)?.disks.find((d) => d.name === diskName);
  }

  replica(name: string): ReplicaInfo | undefined {
    return this.replicaMap.get(name);
  }

  replicasOf(volumeName: string): readonly ReplicaInfo[] {
    const m = this.byVolume.get(volumeName);
    return m === undefined ? [] : [...m.values()].sort(byName((r) => r.name));
  }

  /** Every node, sorted by name. */
  nodes(): NodeInfo[] {
    return [...this.nodeMap.values()].sort(byName((n) => n.name));
  }

  disks(): Iterable<DiskInfo> {
    if (this.sortedDisks === undefined) this.sortedDisks = this.nodes().flatMap((n) => n.disks);
    return this.sortedDisks;
  }

  private ensure(k: string, attrs: Record<string, unknown>, parent?: string): void {
    if (!this.graph.hasNode(k)) this.graph.addNode(k, attrs);
    if (parent !== undefined && !this.graph.hasEdge(parent, k)) this.graph.addEdge(parent, k);
  }

  private dropIfLeaf(k: string): void {
    if (this.graph.hasNode(k) && this.graph.outDegree(k) === 0) this.graph.dropNode(k);
  }

  /** Adds or replaces a node and its disks; its replicas stay attached by disk key. */
  upsertNode(f: NodeFacts): void {
    this.removeNode(f.name);
    let zone = this.zoneMap.get(f.zone);
    if (zone === undefined) {
      zone = { name: f.zone, region: f.region, racks: [], minUsage: Infinity };
      this.zoneMap.set(f.zone, zone);
      insertSorted(this.zones, zone, (z) => z.name);
    }
    const rackKey = `${f.zone}/${f.rack}`;
    let rack = this.rackMap.get(rackKey);
    if (rack === undefined) {
      rack = { key: f.rack, zone: f.zone, nodes: [], minUsage: Infinity };
      this.rackMap.set(rackKey, rack);
      insertSorted(zone.racks, rack, (r) => r.key);
    }
    // The nodes of a rack share one rackKey string (its first node's): a map keyed by rackKey (the
    // extender's per-rack scores) then matches by pointer instead of comparing two strings' characters.
    const node: NodeInfo = { name: f.name, zone: f.zone, region: f.region, rack: f.rack, rackKey: rack.nodes[0]?.rackKey ?? rackKey, tags: f.tags, ready: f.ready, schedulable: f.schedulable, evictionRequested: f.evictionRequested, disks: [], minUsage: Infinity };
    this.ensure(key.region(f.region), { level: 'region', name: f.region });
    this.ensure(key.zone(f.zone), { level: 'zone', info: zone }, key.region(f.region));
    this.ensure(key.rack(f.zone, f.rack), { level: 'rack', info: rack }, key.zone(f.zone));
    this.ensure(key.node(f.name), { level: 'node', info: node }, key.rack(f.zone, f.rack));
    for (const d of f.disks) {
      const dk = `${f.name}/${d.name}`;
      let replicas = this.byDisk.get(dk);
      if (replicas === undefined) {
        replicas = new Map();
        this.byDisk.set(dk, replicas);
      }
      let scheduled = 0;
      for (const r of replicas.values()) scheduled += r.sizeBytes;
      const usableBytes = d.maximumBytes - d.reservedBytes;
      const disk: DiskInfo = { key: dk, name: d.name, ...(d.uuid !== undefined ? { uuid: d.uuid } : {}), path: d.path, node, maximumBytes: d.maximumBytes, availableBytes: d.availableBytes, reservedBytes: d.reservedBytes, tags: d.tags, ready: d.ready, schedulable: d.schedulable, evictionRequested: d.evictionRequested, scheduledBytes: scheduled, replicas, usage: usable(f, d) ? scheduled / usableBytes : Infinity };
      node.disks.push(disk);
      this.ensure(key.disk(f.name, d.name), { level: 'disk', info: disk }, key.node(f.name));
      for (const r of replicas.values()) this.ensure(key.replica(r.name), { level: 'replica', info: r }, key.disk(f.name, d.name));
      this.disksTotal++;
    }
    this.nodeMap.set(f.name, node);
    insertSorted(rack.nodes, node, (n) => n.name);
    this.sortedDisks = undefined;
    this.refreshFrom(node);
    // Replicas that named one of these disks by UUID before the node was known: attach them by name now.
    for (const d of node.disks) {
      const byUuid = d.uuid === undefined ? undefined : this.byDisk.get(`${f.name}/${d.uuid}`);
      if (byUuid !== undefined) for (const r of [...byUuid.values()]) this.upsertReplica(r);
    }
  }

  /** Removes a node and its disks (their replicas stay known, unattached, until the node returns or they go). */
  removeNode(name: string): void {
    const node = this.nodeMap.get(name);
    if (node === undefined) return;
    this.nodeMap.delete(name);
    this.disksTotal -= node.disks.length;
    this.sortedDisks = undefined;
    for (const d of node.disks) {
      for (const r of d.replicas.values()) if (this.graph.hasNode(key.replica(r.name))) this.graph.dropNode(key.replica(r.name));
      this.graph.dropNode(key.disk(name, d.name));
    }
    this.graph.dropNode(key.node(name));
    const rackKey = `${node.zone}/${node.rack}`;
    const rack = this.rackMap.get(rackKey) as RackInfo;
    const zone = this.zoneMap.get(node.zone) as ZoneInfo;
    removeItem(rack.nodes, node);
    if (rack.nodes.length === 0) {
      this.rackMap.delete(rackKey);
      removeItem(zone.racks, rack);
      this.dropIfLeaf(key.rack(node.zone, node.rack));
    }
    if (zone.racks.length === 0) {
      this.zoneMap.delete(node.zone);
      removeItem(this.zones, zone);
      this.dropIfLeaf(key.zone(node.zone));
      this.dropIfLeaf(key.region(node.region));
    } else {
      this.refreshRack(rack);
      this.refreshZone(zone);
    }
  }

  /** Adds or replaces a replica; the disk it names counts its nominal size at once. */
  upsertReplica(given: ReplicaInfo): void {
    this.removeReplica(given.name);
    const r = this.resolveDisk(given);
    this.replicaMap.set(r.name, r);
    let vol = this.byVolume.get(r.volumeName);
    if (vol === undefined) {
      vol = new Map();
      this.byVolume.set(r.volumeName, vol);
    }
    vol.set(r.name, r);
    const dk = `${r.nodeID}/${r.diskID}`;
    let onDisk = this.byDisk.get(dk);
    if (onDisk === undefined) {
      onDisk = new Map();
      this.byDisk.set(dk, onDisk);
    }
    onDisk.set(r.name, r);
    const disk = this.disk(r.nodeID, r.diskID);
    if (disk !== undefined) {
      disk.scheduledBytes += r.sizeBytes;
      this.ensure(key.replica(r.name), { level: 'replica', info: r }, key.disk(r.nodeID, r.diskID));
      this.refreshDisk(disk);
    }
  }

  /** A replica whose diskID is the UUID of a disk of a known node, with diskID set to that disk's name. */
  private resolveDisk(r: ReplicaInfo): ReplicaInfo {
    const n = this.nodeMap.get(r.nodeID);
    if (n === undefined || n.disks.some((d) => d.name === r.diskID)) return r;
    const d = n.disks.find((x) => x.uuid !== undefined && x.uuid === r.diskID);
    return d === undefined ? r : { ...r, diskID: d.name };
  }

  /** Forgets a replica and gives its nominal size back to its disk. */
  removeReplica(name: string): void {
    const r = this.replicaMap.get(name);
    if (r === undefined) return;
    this.replicaMap.delete(name);
    const vol = this.byVolume.get(r.volumeName);
    vol?.delete(name);
    if (vol !== undefined && vol.size === 0) this.byVolume.delete(r.volumeName);
    const dk = `${r.nodeID}/${r.diskID}`;
    const onDisk = this.byDisk.get(dk);
    onDisk?.delete(name);
    const disk = this.disk(r.nodeID, r.diskID);
    if (disk !== undefined) {
      disk.scheduledBytes -= r.sizeBytes;
      if (this.graph.hasNode(key.replica(name))) this.graph.dropNode(key.replica(name));
      this.refreshDisk(disk);
    } else if (onDisk !== undefined && onDisk.size === 0) this.byDisk.delete(dk);
  }

  private refreshDisk(d: DiskInfo): void {
    const n = d.node;
    const usableBytes = d.maximumBytes - d.reservedBytes;
    const ok = n.ready && n.schedulable && !n.evictionRequested && d.ready && d.schedulable && !d.evictionRequested && usableBytes > 0;
    d.usage = ok ? d.scheduledBytes / usableBytes : Infinity;
    this.refreshFrom(n);
  }

  private refreshFrom(n: NodeInfo): void {
    let m = Infinity;
    for (const d of n.disks) if (d.usage < m) m = d.usage;
    n.minUsage = m;
    const rack = this.rackMap.get(`${n.zone}/${n.rack}`);
    const zone = this.zoneMap.get(n.zone);
    if (rack === undefined || zone === undefined) return;
    this.refreshRack(rack);
    this.refreshZone(zone);
  }

  private refreshRack(rack: RackInfo): void {
    let m = Infinity;
    for (const n of rack.nodes) if (n.minUsage < m) m = n.minUsage;
    rack.minUsage = m;
  }

  private refreshZone(zone: ZoneInfo): void {
    let m = Infinity;
    for (const r of zone.racks) if (r.minUsage < m) m = r.minUsage;
    zone.minUsage = m;
  }
}
