import type { Volume } from '../../api/codecs/volume.ts';
import type { Logger } from '../../api/log.ts';
import type { Settings } from '../../api/settings.ts';
import type { PlacementView } from '../graph/types.ts';
import type { KubeVolumeView } from './resolver.ts';

/** What the extender reads: the live placement graph, Volume objects, settings and the PVC/PV view. */
export interface ExtenderDeps {
  readonly graph: PlacementView;
  readonly volume: (name: string) => Volume | undefined;
  readonly settings: () => Settings;
  readonly kube: KubeVolumeView;
  readonly log?: Logger;
  /** Bound on the work of one request (resolving included); the answer says it timed out. Default 4 s (the scheduler waits 5 s). */
  readonly timeoutMs?: number;
  /** Largest request body accepted. Default 32 MiB: a NodeList of 5,000 trimmed nodes fits; use NodeNames (nodeCacheCapable) beyond. */
  readonly maxBodyBytes?: number;
}
