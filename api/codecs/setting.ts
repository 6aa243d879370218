import * as t from 'io-ts';
import { resource } from './meta.ts';

/** A cluster setting; as in Longhorn the value is a string at the top level, typed per name (api/settings.ts). */
export const Setting = resource('Setting', { value: t.string });
export type Setting = t.TypeOf<typeof Setting>;
