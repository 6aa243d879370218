import * as E from 'fp-ts/Either';

/**
 * The cluster settings Shorthorn knows, with their types, ranges and Longhorn's defaults
 * (../shared/REFERENCE.md §5). A Setting object's value is a string; `parseSettingValue` types it.
 */
export type SettingDefinition =
  | { readonly type: 'bool'; readonly default: boolean; readonly description: string }
  | { readonly type: 'int'; readonly default: number; readonly min: number; readonly max: number; readonly description: string }
  | { readonly type: 'enum'; readonly default: string; readonly values: readonly string[]; readonly description: string };

export const SETTINGS = {
  'replica-soft-anti-affinity': { type: 'bool', default: false, description: 'allow two replicas of a volume on one node when no other node fits' },
  'replica-zone-soft-anti-affinity': { type: 'bool', default: true, description: 'allow two replicas of a volume in one zone when no other zone fits' },
  'replica-disk-soft-anti-affinity': { type: 'bool', default: true, description: 'allow two replicas of a volume on one disk when no other disk fits' },
  'storage-over-provisioning-percentage': { type: 'int', default: 100, min: 0, max: 10000, description: 'scheduled nominal sizes may reach this percentage of (maximum - reserved)' },
  'storage-minimal-available-percentage': { type: 'int', default: 25, min: 0, max: 100, description: 'a disk with less free space than this percentage of its maximum takes no new replica' },
  'storage-reserved-percentage-for-default-disk': { type: 'int', default: 30, min: 0, max: 100, description: 'space reserved on a default disk for other uses' },
  'default-replica-count': { type: 'int', default: 3, min: 1, max: 20, description: 'numberOfReplicas of a volume that does not set it' },
  'default-data-locality': { type: 'enum', default: 'disabled', values: ['disabled', 'best-effort', 'strict-local'], description: 'dataLocality of a volume that does not set it' },
  'replica-auto-balance': { type: 'enum', default: 'disabled', values: ['disabled', 'least-effort', 'best-effort'], description: 'rebalance replicas when nodes join' },
  'replica-replenishment-wait-interval': { type: 'int', default: 600, min: 0, max: 86400, description: 'seconds to wait for a failed replica to come back before building a new one' },
  'concurrent-replica-rebuild-per-node-limit': { type: 'int', default: 5, min: 0, max: 100, description: 'rebuilds running at once on one node (0 disables rebuilds)' },
  'stale-replica-timeout': { type: 'int', default: 30, min: 1, max: 525600, description: 'minutes before an ERR replica is replaced (default of Volume.spec.staleReplicaTimeout)' },
  'create-default-disk-labeled-nodes': { type: 'bool', default: false, description: 'create a default disk only on nodes labelled for it' },
} as const satisfies Record<string, SettingDefinition>;

export type SettingName = keyof typeof SETTINGS;

/** The typed value of each setting. */
export type SettingValue<N extends SettingName> = (typeof SETTINGS)[N]['default'] extends boolean
  ? boolean
  : (typeof SETTINGS)[N]['default'] extends number
    ? number
    : string;

/** Is this a setting Shorthorn knows? */
export function isSettingName(s: string): s is SettingName {
  return Object.prototype.hasOwnProperty.call(SETTINGS, s);
}

/** Parses a setting's string value by its definition; the message names the rule. */
export function parseSettingValue(name: string, raw: string): E.Either<string, boolean | number | string> {
  if (!isSettingName(name)) return E.left(`unknown setting "${name}" (known: ${Object.keys(SETTINGS).join(', ')})`);
  const def: SettingDefinition = SETTINGS[name];
  switch (def.type) {
    case 'bool':
      if (raw === 'true' || raw === 'false') return E.right(raw === 'true');
      return E.left(`expected true or false, got ${JSON.stringify(raw)}`);
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return E.left(`expected an integer from ${def.min} to ${def.max}, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (n < def.min || n > def.max) return E.left(`expected an integer from ${def.min} to ${def.max}, got ${raw}`);
      return E.right(n);
    }
    case 'enum':
      if (def.values.includes(raw)) return E.right(raw);
      return E.left(`expected one of ${def.values.join(', ')}, got ${JSON.stringify(raw)}`);
  }
}

/** Typed settings: the stored values over the defaults. Unparseable stored values fall back to the default. */
export type Settings = { readonly [N in SettingName]: SettingValue<N> };

/** Builds typed Settings from name → raw string values. */
export function resolveSettings(raw: Readonly<Record<string, string>>): Settings {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const v = raw[name];
    const parsed = v === undefined ? undefined : parseSettingValue(name, v);
    out[name] = parsed !== undefined && E.isRight(parsed) ? parsed.right : SETTINGS[name].default;
  }
  return out as Settings;
}
