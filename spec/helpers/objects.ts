import { API_VERSION } from '../../api/codecs/meta.ts';
import type { Volume } from '../../api/codecs/volume.ts';
import type { Node } from '../../api/codecs/node.ts';
import type { Setting } from '../../api/codecs/setting.ts';

/** Test builders for Shorthorn objects, with sensible defaults. */
export function volume(name: string, spec: Partial<Volume['spec']> = {}, meta: Partial<Volume['metadata']> = {}): Volume {
  return {
    apiVersion: API_VERSION,
    kind: 'Volume',
    metadata: { name, ...meta },
    spec: { size: '1Gi', numberOfReplicas: 3, dataLocality: 'disabled', accessMode: 'rwo', frontend: 'iscsi', ...spec },
  };
}

/** A Node object with disks given as name → path. */
export function node(name: string, disks: Record<string, string> = {}, meta: Partial<Node['metadata']> = {}): Node {
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name, ...meta },
    spec: { allowScheduling: true, disks: Object.fromEntries(Object.entries(disks).map(([d, path]) => [d, { path, allowScheduling: true }])) },
  };
}

/** A Setting object. */
export function setting(name: string, value: string): Setting {
  return { apiVersion: API_VERSION, kind: 'Setting', metadata: { name }, value };
}
