import { createLogger } from '../../api/log.ts';
import type { ChapCredentials, IscsiTarget } from '../../engine/frontend/index.ts';
import { startTarget, type TargetTuning } from '../../engine/frontend/iscsi/target.ts';
import type { LogicalUnit } from '../../engine/frontend/iscsi/scsi/logical-unit.ts';
import { BasicLogicalUnit } from './basic-logical-unit.ts';
import { MemoryDevice } from './memory-device.ts';

/** A target on 127.0.0.1:0 over an in-memory device, for protocol tests. */
export interface TestTarget {
  readonly target: IscsiTarget;
  readonly portal: string;
  readonly iqn: string;
  readonly device: MemoryDevice;
  readonly lu: LogicalUnit;
  readonly logs: string[];
  close(): Promise<void>;
}

/** Starts a target for a test; the logical unit defaults to BasicLogicalUnit. */
export async function startTestTarget(o: { sizeBytes?: number; chap?: ChapCredentials; lu?: (d: MemoryDevice) => LogicalUnit; tuning?: Omit<TargetTuning, 'logicalUnit'>; volume?: string } = {}): Promise<TestTarget> {
  const device = new MemoryDevice(o.sizeBytes ?? 8 * 1024 * 1024);
  const lu = o.lu !== undefined ? o.lu(device) : new BasicLogicalUnit(device);
  const logs: string[] = [];
  const log = createLogger('iscsi-test', { sink: (l) => logs.push(l), level: 'debug' });
  const target = await startTarget({ volume: o.volume ?? 'vol1', device, host: '127.0.0.1', port: 0, log, ...(o.chap !== undefined ? { chap: o.chap } : {}) }, { logicalUnit: lu, ...(o.tuning ?? {}) });
  return { target, portal: target.portal, iqn: target.iqn, device, lu, logs, close: () => target.close() };
}

/** A unit that holds every command until `release` (to test aborts and ordering). */
export class GateUnit implements LogicalUnit {
  readonly queueDepth: number;
  readonly order: number[] = [];
  readonly aborted: number[] = [];
  private gates: Array<() => void> = [];
  private arrivals: Array<() => void> = [];

  constructor(private readonly inner: LogicalUnit) {
    this.queueDepth = inner.queueDepth;
  }

  async execute(cmd: Parameters<LogicalUnit['execute']>[0]): ReturnType<LogicalUnit['execute']> {
    this.order.push(cmd.cdb[0] as number);
    await new Promise<void>((resolve) => {
      this.gates.push(resolve);
      for (const a of this.arrivals.splice(0)) a();
      cmd.signal.addEventListener('abort', () => {
        this.aborted.push(cmd.cdb[0] as number);
        resolve();
      }, { once: true });
    });
    return this.inner.execute(cmd);
  }

  /** Resolves when a command has arrived (now or later). */
  arrived(n = 1): Promise<void> {
    if (this.gates.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.gates.length >= n ? resolve() : this.arrivals.push(check));
      this.arrivals.push(check);
    });
  }

  /** Resolves once `n` commands have reached the unit in all (held or already released). */
  async seen(n: number): Promise<void> {
    while (this.order.length < n) await new Promise<void>((resolve) => this.arrivals.push(resolve));
  }

  /** Lets the oldest held command run. */
  releaseOldest(): void {
    this.gates.shift()?.();
  }

  /** Lets every held command run. */
  release(): void {
    for (const g of this.gates.splice(0)) g();
  }

  taskManagement(...a: Parameters<LogicalUnit['taskManagement']>): void {
    this.inner.taskManagement(...a);
  }

  nexusGone(...a: Parameters<LogicalUnit['nexusGone']>): void {
    this.inner.nexusGone(...a);
  }
}
