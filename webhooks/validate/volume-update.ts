import type { Volume } from '../../api/codecs/volume.ts';
import { formatBytes, quantityBytes } from '../../api/quantity.ts';
import type { Check } from '../context.ts';
import { violation, type Finding } from '../findings.ts';

/** Detached: no node asked for (spec.nodeID empty) and none still serving it (status). */
export function isDetached(v: Volume): boolean {
  const state = v.status?.state;
  const idle = state === undefined || state === 'creating' || state === 'detached';
  return (v.spec.nodeID ?? '') === '' && (v.status?.currentNodeID ?? '') === '' && idle;
}

function where(v: Volume): string {
  const node = v.spec.nodeID || v.status?.currentNodeID || '';
  return node === '' ? `it is ${v.status?.state ?? 'not detached'}` : `it is attached to "${node}"`;
}

/** spec.size never shrinks. */
export const checkNoShrink: Check<Volume> = ({ object, old }) => {
  if (old === undefined) return [];
  const before = quantityBytes(old.spec.size);
  const after = quantityBytes(object.spec.size);
  if (after >= before) return [];
  return [violation('volume-size-shrink', 'spec.size', `cannot shrink from ${formatBytes(before)} to ${formatBytes(after)}`)];
};

/** dataLocality may move to or from strict-local only while the volume is detached. */
export const checkLocalityChange: Check<Volume> = ({ object, old }) => {
  if (old === undefined) return [];
  const [a, b] = [old.spec.dataLocality, object.spec.dataLocality];
  if (a === b || (a !== 'strict-local' && b !== 'strict-local') || isDetached(old)) return [];
  return [violation('volume-locality-change', 'spec.dataLocality', `can change from ${a} to ${b} only while the volume is detached, and ${where(old)}`)];
};

/** spec.nodeID: detached → attached or attached → detached; never from one node straight to another. */
export const checkNodeJump: Check<Volume> = ({ object, old }) => {
  if (old === undefined) return [];
  const [a, b] = [old.spec.nodeID ?? '', object.spec.nodeID ?? ''];
  if (a === '' || b === '' || a === b) return [];
  return [violation('volume-node-jump', 'spec.nodeID', `cannot move from "${a}" to "${b}" while attached; detach first (set it to "")`)];
};

/**
 * Immutable fields: accessMode (a PersistentVolume's access modes never change), and frontend
 * outside of a detached volume (the engine serving it would have to change under the initiator).
 */
export const checkImmutable: Check<Volume> = ({ object, old }) => {
  if (old === undefined) return [];
  const out: Finding[] = [];
  if (old.spec.accessMode !== object.spec.accessMode) {
    out.push(violation('volume-immutable', 'spec.accessMode', `is immutable, cannot change from ${old.spec.accessMode} to ${object.spec.accessMode}`));
  }
  if (old.spec.frontend !== object.spec.frontend && !isDetached(old)) {
    out.push(violation('volume-immutable', 'spec.frontend', `can change from ${old.spec.frontend} to ${object.spec.frontend} only while the volume is detached, and ${where(old)}`));
  }
  return out;
};

/**
 * A Volume being deleted accepts only status changes: its spec is frozen. (Metadata may still
 * change: the controller removes the finalizer to finish the deletion.)
 */
export const checkDeleting: Check<Volume> = ({ object, old }) => {
  if (old === undefined || old.metadata.deletionTimestamp === undefined) return [];
  const a = old.spec as Record<string, unknown>;
  const b = object.spec as Record<string, unknown>;
  const changed = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
  if (changed.length === 0) return [];
  return [violation('volume-deleting', 'spec', `the volume is being deleted (since ${old.metadata.deletionTimestamp}): only its status may change, got changes to ${changed.map((k) => `spec.${k}`).join(', ')}`, 403)];
};

/** The Volume rules that compare the new object with the stored one. */
export const VOLUME_UPDATE_CHECKS: readonly Check<Volume>[] = [checkDeleting, checkNoShrink, checkLocalityChange, checkNodeJump, checkImmutable];
