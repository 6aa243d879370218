import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createControlApp } from './control-api.ts';
import type { Engine } from './engine.ts';

/** A listening control API. */
export interface ControlServer {
  /** host:port actually listened on. */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves the control API of `engine` on host:port (0 = any free port). */
export function startControlServer(engine: Engine, host: string, port: number): Promise<ControlServer> {
  const server = createServer(createControlApp(engine));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      const address = `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
      resolve({
        address,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
