import type * as t from 'io-ts';
import { Engine } from './codecs/engine.ts';
import { Node } from './codecs/node.ts';
import { Replica } from './codecs/replica.ts';
import { Setting } from './codecs/setting.ts';
import { Volume } from './codecs/volume.ts';

/** Every kind of Shorthorn custom resource, with its codec and REST names. */
export const KINDS = {
  Volume: { codec: Volume, plural: 'volumes', singular: 'volume', shortNames: ['shv', 'shvol'], hasStatus: true },
  Replica: { codec: Replica, plural: 'replicas', singular: 'replica', shortNames: ['shr'], hasStatus: true },
  Engine: { codec: Engine, plural: 'engines', singular: 'engine', shortNames: ['she'], hasStatus: true },
  Node: { codec: Node, plural: 'nodes', singular: 'node', shortNames: ['shn'], hasStatus: true },
  Setting: { codec: Setting, plural: 'settings', singular: 'setting', shortNames: ['shs'], hasStatus: false },
} as const;

export type Kind = keyof typeof KINDS;

/** The decoded object type of a kind. */
export type ObjectOf<K extends Kind> = t.TypeOf<(typeof KINDS)[K]['codec']>;

/** Any Shorthorn object. */
export type AnyObject = ObjectOf<Kind>;

export const KIND_NAMES = Object.keys(KINDS) as Kind[];

/** Is this string one of our kinds? */
export function isKind(s: string): s is Kind {
  return Object.prototype.hasOwnProperty.call(KINDS, s);
}

/** The kind whose plural (REST resource) name this is. */
export function kindOfPlural(plural: string): Kind | undefined {
  return KIND_NAMES.find((k) => KINDS[k].plural === plural);
}
