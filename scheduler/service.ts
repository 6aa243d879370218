import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../api/log.ts';
import type { ObjectStore } from '../api/store/port.ts';
import { PlacementController } from './controller.ts';
import type { KubeVolumeView } from './extender/resolver.ts';

/** What the placement service runs on, and where it serves the extender. */
export interface PlacementServiceOptions {
  readonly store: ObjectStore;
  readonly log: Logger;
  /** Serve the kube-scheduler extender on this address (port 0: any free port). */
  readonly extender?: {
    readonly host: string;
    readonly port: number;
    readonly tls?: { readonly certFile: string; readonly keyFile: string };
    /** Where PVCs, PVs and StorageClasses are read (a cluster: ClientKubeView). */
    readonly kube: KubeVolumeView;
  };
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
  let server: Server | undefined;
  let extenderUrl: string | undefined;
  if (opts.extender !== undefined) {
    const { createApp } = await import('./extender/app.ts');
    const { expressServerClasses } = await import('../api/http/express-classes.ts');
    const app = createApp({ graph: controller.graph, volume: (n) => controller.volume(n), settings: () => controller.currentSettings(), kube: opts.extender.kube, log: opts.log.with({ component: 'extender' }) });
    const tls = opts.extender.tls;
    // Requests born with express's prototypes: see api/http/express-classes.ts (young-generation GC between calls).
    const classes = expressServerClasses(app);
    server = tls === undefined ? createHttpServer({ ...classes }, app) : createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ...classes }, app);
    // Bounded in time as well as size: the scheduler gives up after its httpTimeout (5 s by default).
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    const s = server;
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(opts.extender!.port, opts.extender!.host, () => resolve());
      });
    } catch (err) {
      await controller.stop();
      throw new Error(`cannot serve the extender on ${opts.extender.host}:${opts.extender.port}: ${(err as Error).message}`, { cause: err });
    }
    const a = s.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    extenderUrl = `${tls === undefined ? 'http' : 'https'}://${host}:${a.port}`;
  }
  return {
    controller,
    ...(extenderUrl !== undefined ? { extenderUrl } : {}),
    async stop() {
      if (server !== undefined) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await controller.stop();
    },
  };
}
