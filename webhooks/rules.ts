import type * as t from 'io-ts';
import { KINDS, type Kind } from '../api/kinds.ts';
import type { Check, DeleteCheck, FactNeeds, Mutator } from './context.ts';
import { getIn } from './draft.ts';
import { mutateNode } from './mutate/node.ts';
import { mutateVolume } from './mutate/volume.ts';
import { checkEngineImmutable, checkReplicaImmutable, checkVolumeExists } from './validate/instance.ts';
import { checkNodeDelete, NODE_CHECKS } from './validate/node.ts';
import { checkSetting } from './validate/setting.ts';
import { VOLUME_CHECKS } from './validate/volume.ts';
import { checkExpansion } from './validate/volume-expansion.ts';
import { VOLUME_UPDATE_CHECKS } from './validate/volume-update.ts';

/** The rules of one kind: its codec, mutators, checks (CREATE and UPDATE), and DELETE checks. */
export interface KindRules {
  readonly codec: t.Type<unknown, unknown, unknown>;
  readonly mutators: readonly Mutator[];
  readonly checks: readonly Check<never>[];
  readonly deleteChecks: readonly DeleteCheck<never>[];
  /** The facts a (main-resource) request of this kind needs. */
  readonly needs: (req: { readonly operation: string; readonly object?: unknown; readonly oldObject?: unknown }) => FactNeeds;
}

const NONE: FactNeeds = { settings: false, nodes: false, replicas: false, volumeName: undefined };

function volumeNameOf(object: unknown): string | undefined {
  const v = getIn(object, ['spec', 'volumeName']);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const instanceNeeds = (req: { readonly operation: string; readonly object?: unknown }): FactNeeds => (req.operation === 'CREATE' ? { ...NONE, volumeName: volumeNameOf(req.object) } : NONE);

/**
 * Every kind's rules, in the order they run. Longhorn's Volume and Node rules are the floor
 * (../shared/REFERENCE.md §6); docs/webhooks.md lists each rule with its message.
 */
export const RULES: Readonly<Record<Kind, KindRules>> = {
  Volume: {
    codec: KINDS.Volume.codec as t.Type<unknown, unknown, unknown>,
    mutators: [mutateVolume],
    checks: [...VOLUME_CHECKS, ...VOLUME_UPDATE_CHECKS, checkExpansion] as Check<never>[],
    deleteChecks: [],
    // Nodes feed the redundancy warnings (on CREATE and when numberOfReplicas changes); a size
    // change also reads the replicas and their disks (checkExpansion).
    needs: (req) => {
      if (req.operation === 'DELETE') return NONE;
      const resized = req.operation === 'UPDATE' && getIn(req.object, ['spec', 'size']) !== getIn(req.oldObject, ['spec', 'size']);
      const nodes = resized || req.operation === 'CREATE' || getIn(req.object, ['spec', 'numberOfReplicas']) !== getIn(req.oldObject, ['spec', 'numberOfReplicas']);
      return { ...NONE, settings: true, nodes, replicas: resized };
    },
  },
  Node: {
    codec: KINDS.Node.codec as t.Type<unknown, unknown, unknown>,
    mutators: [mutateNode],
    checks: NODE_CHECKS as readonly Check<never>[],
    deleteChecks: [checkNodeDelete] as DeleteCheck<never>[],
    needs: (req) => (req.operation === 'CREATE' ? NONE : { ...NONE, replicas: true }),
  },
  Replica: {
    codec: KINDS.Replica.codec as t.Type<unknown, unknown, unknown>,
    mutators: [],
    checks: [checkVolumeExists, checkReplicaImmutable] as Check<never>[],
    deleteChecks: [],
    needs: instanceNeeds,
  },
  Engine: {
    codec: KINDS.Engine.codec as t.Type<unknown, unknown, unknown>,
    mutators: [],
    checks: [checkVolumeExists, checkEngineImmutable] as Check<never>[],
    deleteChecks: [],
    needs: instanceNeeds,
  },
  Setting: {
    codec: KINDS.Setting.codec as t.Type<unknown, unknown, unknown>,
    mutators: [],
    checks: [checkSetting] as Check<never>[],
    deleteChecks: [],
    needs: () => NONE,
  },
};
