import type { Logger } from '../api/log.ts';
import type { ObjectStore } from '../api/store/port.ts';
import { PlacementController } from './controller.ts';

export interface PlacementServiceOptions {
  readonly store: ObjectStore;
  readonly log: Logger;
  /** Serve the kube-scheduler extender on this address (port 0: any free port). */
  readonly extender?: { readonly host: string; readonly port: number; readonly tls?: { readonly certFile: string; readonly keyFile: string } };
}

/** A running placement service. */
export interface PlacementService {
  readonly controller: PlacementController;
  /** The extender's base URL, when it runs. */
  readonly extenderUrl?: string;
  stop(): Promise<void>;
}

/** Starts the placement controller (and the extender when asked): what `shorthorn placement serve` and `dev up` run. */
export async function startPlacementService(opts: PlacementServiceOptions): Promise<PlacementService> {
  const controller = new PlacementController({ store: opts.store, log: opts.log });
  await controller.start();
  return {
    controller,
    async stop() {
      await controller.stop();
    },
  };
}
