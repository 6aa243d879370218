import { Dns1123Label } from '../../api/decode.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import { formatBytes, quantityBytes } from '../../api/quantity.ts';
import type { Check } from '../context.ts';
import { show, violation, warning, type Finding } from '../findings.ts';
import { SIZE_STEP_BYTES } from '../mutate/volume.ts';
import { checkTags } from './tags.ts';

/**
 * The longest Volume name. Names derived from it must stay valid: replica objects are
 * `<volume>-r-<8 hex>` (11 more characters) and must fit a 63-character DNS-1123 label, so 52; the
 * engine `<volume>-e-0` and the IQN `iqn.2026-11.io.shorthorn:<volume>` (25 + 52 = 77 of the 223
 * bytes RFC 7143 allows) are then within their limits too.
 */
export const MAX_VOLUME_NAME_LENGTH = 52;

/** The largest Volume: 16 TiB. */
export const MAX_VOLUME_BYTES = 16 * 2 ** 40;

const isLabel = (s: string) => Dns1123Label.is(s);

/** metadata.name: a DNS-1123 label of at most 52 characters. */
export const checkVolumeName: Check<Volume> = ({ operation, object }) => {
  if (operation !== 'CREATE') return [];
  const name = object.metadata.name;
  if (isLabel(name) && name.length <= MAX_VOLUME_NAME_LENGTH) return [];
  return [violation('volume-name', 'metadata.name', `expected a DNS-1123 label of at most ${MAX_VOLUME_NAME_LENGTH} characters (lower-case letters, digits and "-"; replica names add 11 and must stay within 63), got ${show(name)}`)];
};

/** spec.size: more than 0, at most 16Ti, a multiple of 2Mi (the mutator rounds up on CREATE). */
export const checkVolumeSize: Check<Volume> = ({ operation, object, old }) => {
  const bytes = quantityBytes(object.spec.size);
  // A size the update leaves alone is not judged again (whatever admitted it then).
  if (operation === 'UPDATE' && old !== undefined && quantityBytes(old.spec.size) === bytes) return [];
  if (bytes === 0) return [violation('volume-size', 'spec.size', `expected more than 0 bytes, got ${show(object.spec.size)}`)];
  if (bytes > MAX_VOLUME_BYTES) return [violation('volume-size', 'spec.size', `expected at most ${formatBytes(MAX_VOLUME_BYTES)}, got ${show(object.spec.size)}`)];
  if (bytes % SIZE_STEP_BYTES === 0) return [];
  if (operation === 'UPDATE' && old !== undefined) {
    const before = quantityBytes(old.spec.size);
    if (bytes > before) return [violation('volume-size-step', 'spec.size', `can grow only in steps of ${formatBytes(SIZE_STEP_BYTES)}, got ${formatBytes(before)} to ${show(object.spec.size)}`)];
    if (bytes < before) return []; // the shrink rule reports it
  }
  return [violation('volume-size-step', 'spec.size', `expected a multiple of ${formatBytes(SIZE_STEP_BYTES)}, got ${show(object.spec.size)}`)];
};

/** strict-local keeps the one replica on the attach node, so it needs exactly one. */
export const checkStrictLocal: Check<Volume> = ({ object }) => {
  const { dataLocality, numberOfReplicas } = object.spec;
  if (dataLocality !== 'strict-local' || numberOfReplicas === 1) return [];
  return [violation('volume-strict-local', 'spec.numberOfReplicas', `dataLocality strict-local needs exactly 1 replica, got ${numberOfReplicas}`)];
};

/** Selectors are lists of well-formed tags. */
export const checkSelectors: Check<Volume> = ({ object }) => [...checkTags('spec.nodeSelector', object.spec.nodeSelector), ...checkTags('spec.diskSelector', object.spec.diskSelector)];

function zoneOf(n: { metadata: { labels?: Record<string, string> }; status?: { zone?: string } }): string {
  return n.status?.zone ?? n.metadata.labels?.['topology.kubernetes.io/zone'] ?? '';
}

/**
 * Soft concerns about redundancy, on CREATE and when numberOfReplicas changes: one replica; fewer
 * replicas than zones (a zone holds no copy); more replicas than nodes under hard node anti-affinity.
 */
export const warnRedundancy: Check<Volume> = ({ operation, object, old, facts }) => {
  const n = object.spec.numberOfReplicas;
  if (operation === 'UPDATE' && old !== undefined && old.spec.numberOfReplicas === n) return [];
  const out: Finding[] = [];
  if (n === 1) out.push(warning('volume-redundancy', 'spec.numberOfReplicas: 1 replica gives no redundancy: the data is lost with its disk'));
  const zones = new Set(facts.nodes.map(zoneOf)).size;
  if (zones > 1 && n < zones) out.push(warning('volume-redundancy', `spec.numberOfReplicas: ${n} replicas on a cluster with ${zones} zones: ${zones - n} zone(s) will hold no copy`));
  const override = object.spec.replicaSoftAntiAffinity ?? 'ignored';
  const hard = override === 'ignored' ? !facts.settings['replica-soft-anti-affinity'] : override === 'disabled';
  const nodes = facts.nodes.length;
  if (hard && nodes > 0 && n > nodes) out.push(warning('volume-redundancy', `spec.numberOfReplicas: ${n} replicas but ${nodes} node(s) and node anti-affinity is hard: ${n - nodes} replica(s) cannot be scheduled`));
  return out;
};

/** Every Volume rule that applies on CREATE and on UPDATE alike. */
export const VOLUME_CHECKS: readonly Check<Volume>[] = [checkVolumeName, checkVolumeSize, checkStrictLocal, checkSelectors, warnRedundancy];
