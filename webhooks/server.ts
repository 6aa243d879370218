import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../api/log.ts';
import { createApp } from './app.ts';
import { expressServerClasses } from '../api/http/express-classes.ts';
import type { StoreReader } from './facts.ts';
import { createMetrics, type WebhookMetrics } from './metrics.ts';
import { CertReloader } from './tls/cert-reloader.ts';

/** What the HTTPS server needs. */
export interface WebhookServerOptions {
  readonly host: string;
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly store: StoreReader;
  readonly log?: Logger;
  readonly metrics?: WebhookMetrics;
  /** How often the certificate files are polled for changes. */
  readonly reloadIntervalMs?: number;
}

/** A running webhook server. */
export interface WebhookServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  readonly reloader: CertReloader;
  close(): Promise<void>;
}

/** Starts the admission app over HTTPS; the certificate is swapped in place when its files change. */
export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  let server: Server | undefined;
  const reloader = new CertReloader(opts.certFile, opts.keyFile, (pair) => server?.setSecureContext(pair), opts.reloadIntervalMs);
  reloader.on('reload', () => opts.log?.info('serving certificate reloaded', { certFile: opts.certFile }));
  reloader.on('reload-failed', (e: Error) => opts.log?.warn('serving certificate not reloaded; keeping the current one', { certFile: opts.certFile, error: e }));
  const app = createApp({ store: opts.store, metrics: opts.metrics ?? createMetrics(), ready: () => server?.listening === true, ...(opts.log ? { log: opts.log } : {}) });
  // Requests and responses are born with express's prototypes (see api/http/express-classes.ts: the GC tail).
  server = createServer({ ...reloader.pair, minVersion: 'TLSv1.2', ...expressServerClasses(app) }, app);
  // Keep connections from the API server open between reviews; a client error never crashes us.
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  reloader.start();
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const s = server;
  return {
    server: s,
    port,
    url: `https://${host}:${port}`,
    reloader,
    close: async () => {
      reloader.stop();
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    },
  };
}
