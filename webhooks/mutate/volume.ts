import * as E from 'fp-ts/Either';
import { FINALIZER } from '../../api/codecs/meta.ts';
import { formatBytes, parseBytes } from '../../api/quantity.ts';
import type { JsonPatchOp } from '../../api/store/port.ts';
import type { MutateContext } from '../context.ts';
import { Draft, getIn, isRecord } from '../draft.ts';

/** Volume sizes are whole multiples of this (Longhorn rounds up to 2 MiB too). */
export const SIZE_STEP_BYTES = 2 * 1024 * 1024;

/**
 * The frontend of a Volume that does not name one. iSCSI, because it is the one frontend every
 * attach path of Shorthorn serves today (the engine's target, open-iscsi on the node); `blockdev`
 * is the same target logged in locally, so it is an explicit choice.
 */
export const DEFAULT_FRONTEND = 'iscsi';

/** The anti-affinity and auto-balance overrides; "ignored" means "follow the cluster setting". */
const OVERRIDES = ['replicaSoftAntiAffinity', 'replicaZoneSoftAntiAffinity', 'replicaDiskSoftAntiAffinity', 'replicaAutoBalance'] as const;

/** A value the stored object has for a spec field (UPDATE): defaults keep it rather than reset it. */
function kept(ctx: MutateContext, field: string): unknown {
  if (ctx.operation !== 'UPDATE') return undefined;
  const v = getIn(ctx.oldObject, ['spec', field]);
  return v === null ? undefined : v;
}

/**
 * Volume defaults, on CREATE and UPDATE of the main resource: numberOfReplicas, dataLocality and
 * staleReplicaTimeout from Settings, accessMode rwo, frontend iscsi, selectors [] when absent or
 * null, overrides "ignored". On UPDATE an absent field takes the stored value first (a client that
 * drops a field does not reset it), and a volume being deleted gets none. On CREATE only: size rounded up to 2 MiB (on UPDATE a size off
 * the step is refused instead) and the shorthorn.io finalizer (on UPDATE it would block deletion).
 */
export function mutateVolume(ctx: MutateContext): JsonPatchOp[] {
  if (!isRecord(ctx.object)) return [];
  // A volume being deleted takes no defaults: its spec is frozen, and a default added now would
  // turn the update that removes the finalizer into a refused spec change.
  if (ctx.operation === 'UPDATE' && getIn(ctx.oldObject, ['metadata', 'deletionTimestamp']) !== undefined) return [];
  const d = new Draft(ctx.object);
  if (!d.ensureObject(['spec'])) return d.ops;
  const s = ctx.facts.settings;
  const defaults: ReadonlyArray<readonly [string, unknown]> = [
    ['numberOfReplicas', s['default-replica-count']],
    ['dataLocality', s['default-data-locality']],
    ['accessMode', 'rwo'],
    ['frontend', DEFAULT_FRONTEND],
    ['staleReplicaTimeout', s['stale-replica-timeout']],
    ['nodeSelector', []],
    ['diskSelector', []],
    ...OVERRIDES.map((o) => [o, 'ignored'] as const),
  ];
  for (const [field, value] of defaults) d.setDefault(['spec', field], kept(ctx, field) ?? value);
  if (ctx.operation === 'CREATE') {
    roundSize(d);
    addFinalizer(d);
  }
  return d.ops;
}

function roundSize(d: Draft): void {
  const size = d.get(['spec', 'size']);
  if (typeof size !== 'string') return;
  const bytes = parseBytes(size);
  if (E.isLeft(bytes) || bytes.right === 0 || bytes.right % SIZE_STEP_BYTES === 0) return;
  const rounded = Math.ceil(bytes.right / SIZE_STEP_BYTES) * SIZE_STEP_BYTES;
  if (!Number.isSafeInteger(rounded)) return;
  d.set(['spec', 'size'], formatBytes(rounded));
}

function addFinalizer(d: Draft): void {
  if (!d.ensureObject(['metadata'])) return;
  const fins = d.get(['metadata', 'finalizers']);
  if (fins === undefined || fins === null) d.set(['metadata', 'finalizers'], [FINALIZER]);
  else if (Array.isArray(fins) && !fins.includes(FINALIZER)) d.set(['metadata', 'finalizers'], [...fins, FINALIZER]);
}
