import type { Engine } from '../../api/codecs/engine.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Robustness, Volume, VolumeState } from '../../api/codecs/volume.ts';

/** The Volume.status fields the volume lifecycle controller owns (it is their only writer). */
export interface VolumeLifecycleStatus {
  readonly state: VolumeState;
  readonly robustness: Robustness;
  readonly currentNodeID: string;
  /** Absent (removed) unless attached. */
  readonly endpoint: { portal: string; iqn: string; url: string } | undefined;
  readonly replicaModes: Readonly<Record<string, string>>;
  readonly lastDegradedAt: string | undefined;
}

/** The ready-to-paste iSCSI URL of LUN 0 of a target (the form libiscsi and qemu take). */
export function iscsiUrl(portal: string, iqn: string): string {
  return `iscsi://${portal}/${iqn}/0`;
}

function robustnessOf(healthy: number, wanted: number): Robustness {
  if (healthy >= wanted) return 'healthy';
  if (healthy > 0) return 'degraded';
  return 'faulted';
}

/**
 * Derives a Volume's lifecycle status from its spec, its Engine and its Replicas (pure).
 * Attached: robustness counts RW replicas in the engine. Otherwise: replicas whose process runs
 * and that are not marked failed.
 */
export function computeVolumeStatus(v: Volume, engine: Engine | undefined, replicas: readonly Replica[], now: string): VolumeLifecycleStatus {
  const prev = (v.status ?? {}) as { state?: VolumeState; robustness?: Robustness; lastDegradedAt?: string };
  const wanted = v.spec.numberOfReplicas;
  const live = replicas.filter((r) => r.metadata.deletionTimestamp === undefined && r.spec.desireState === 'running');
  const running = live.filter((r) => r.status?.currentState === 'running' && (r.spec.failedAt ?? '') === '');
  const nodeID = v.spec.nodeID ?? '';
  const es = (engine?.status ?? {}) as { currentState?: string; portal?: string; iqn?: string; replicaModeMap?: Record<string, string> };
  const engineUp = engine !== undefined && es.currentState === 'running';
  const modes = engineUp ? { ...(es.replicaModeMap ?? {}) } : {};

  let state: VolumeState;
  if (v.metadata.deletionTimestamp !== undefined) state = 'deleting';
  else if (nodeID !== '') state = engineUp && engine?.spec.nodeID === nodeID && (es.portal ?? '') !== '' && (es.iqn ?? '') !== '' ? 'attached' : 'attaching';
  else if (engine !== undefined) state = 'detaching';
  else if ((prev.state === undefined || prev.state === 'creating') && !(live.length >= wanted && running.length >= wanted)) state = 'creating';
  else state = 'detached';

  let robustness: Robustness;
  if (state === 'deleting') robustness = prev.robustness ?? 'unknown';
  else if (state === 'attached') robustness = robustnessOf(Object.values(modes).filter((m) => m === 'RW').length, wanted);
  else if (state === 'creating' && live.length === 0) robustness = 'unknown';
  else robustness = robustnessOf(running.length, wanted);

  const endpoint = state === 'attached' ? { portal: es.portal as string, iqn: es.iqn as string, url: iscsiUrl(es.portal as string, es.iqn as string) } : undefined;
  const lastDegradedAt = robustness === 'degraded' && prev.robustness !== 'degraded' ? now : prev.lastDegradedAt;
  return { state, robustness, currentNodeID: state === 'attached' ? nodeID : '', endpoint, replicaModes: modes, lastDegradedAt };
}
