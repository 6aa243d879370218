import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REPLICA_MODES, type ReplicaMode } from './modes.ts';
import type { IoObserver, ReplicaOp } from './replica-handle.ts';

/**
 * Prometheus metrics of one engine, in its own registry (several engines may share a process in
 * tests): per-replica I/O counts, bytes, errors and latency histograms, replica modes, rebuild bytes.
 */

/** Latency buckets in seconds: 50 µs to 10 s. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

interface Children {
  readonly count: Counter.Internal;
  readonly bytes: Counter.Internal;
  readonly errors: Counter.Internal;
  readonly latency: Histogram.Internal<'replica' | 'op'>;
}

/** The engine's metrics. */
export class EngineMetrics {
  readonly registry = new Registry();
  private readonly ioTotal: Counter<'replica' | 'op'>;
  private readonly ioBytes: Counter<'replica' | 'op'>;
  private readonly ioErrors: Counter<'replica' | 'op'>;
  private readonly ioSeconds: Histogram<'replica' | 'op'>;
  private readonly mode: Gauge<'replica' | 'mode'>;
  private readonly rebuildBytes: Counter<'replica'>;
  private readonly children = new Map<string, Children>();

  constructor(volume: string) {
    this.registry.setDefaultLabels({ volume });
    const registers = [this.registry];
    this.ioTotal = new Counter({ name: 'shorthorn_engine_replica_io_total', help: 'I/O requests completed per replica and op', labelNames: ['replica', 'op'], registers });
    this.ioBytes = new Counter({ name: 'shorthorn_engine_replica_io_bytes_total', help: 'Bytes moved per replica and op', labelNames: ['replica', 'op'], registers });
    this.ioErrors = new Counter({ name: 'shorthorn_engine_replica_io_errors_total', help: 'Failed I/O requests per replica and op', labelNames: ['replica', 'op'], registers });
    this.ioSeconds = new Histogram({ name: 'shorthorn_engine_replica_io_seconds', help: 'I/O latency per replica and op', labelNames: ['replica', 'op'], buckets: LATENCY_BUCKETS, registers });
    this.mode = new Gauge({ name: 'shorthorn_engine_replica_mode', help: '1 for the mode each replica is in', labelNames: ['replica', 'mode'], registers });
    this.rebuildBytes = new Counter({ name: 'shorthorn_engine_rebuild_bytes_total', help: 'Bytes copied by rebuilds onto each replica', labelNames: ['replica'], registers });
  }

  /** The observer replica handles report to. */
  readonly observe: IoObserver = (replica: string, op: ReplicaOp, bytes: number, seconds: number, ok: boolean) => {
    const key = `${replica}\u0000${op}`;
    let c = this.children.get(key);
    if (c === undefined) {
      c = { count: this.ioTotal.labels(replica, op), bytes: this.ioBytes.labels(replica, op), errors: this.ioErrors.labels(replica, op), latency: this.ioSeconds.labels(replica, op) };
      this.children.set(key, c);
    }
    c.count.inc();
    if (bytes > 0) c.bytes.inc(bytes);
    if (!ok) c.errors.inc();
    c.latency.observe(seconds);
  };

  /** Records a replica's mode. */
  setMode(replica: string, mode: ReplicaMode): void {
    for (const m of REPLICA_MODES) this.mode.labels(replica, m).set(m === mode ? 1 : 0);
  }

  /** Counts rebuild bytes copied. */
  addRebuildBytes(replica: string, bytes: number): void {
    this.rebuildBytes.labels(replica).inc(bytes);
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
