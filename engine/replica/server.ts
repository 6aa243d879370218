import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Logger } from '../../api/log.ts';
import type { ReplicaBackend } from './backend.ts';
import { ReplicaSession, type SessionLimits } from './session.ts';

/** Options of a replica server. */
export interface ReplicaServerOptions {
  readonly backend: ReplicaBackend;
  /** The volume's shared secret; every client must prove it. */
  readonly secret: Buffer;
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly log: Logger;
  readonly limits?: Partial<SessionLimits>;
}

/** A listening replica server. */
export interface ReplicaServer {
  /** host:port actually listened on. */
  readonly address: string;
  readonly port: number;
  /** Connections open now. */
  readonly connectionCount: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_LIMITS: SessionLimits = { authTimeoutMs: 10_000, maxInFlight: 256 };

/** Starts serving a backend over the replica protocol; resolves once listening. */
export async function startReplicaServer(opts: ReplicaServerOptions): Promise<ReplicaServer> {
  const limits: SessionLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const sessions = new Set<ReplicaSession>();
  const server: Server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
    // Accepted paused: the session chooses how the socket is read (see ReplicaSession), then resumes it.
    const session = new ReplicaSession(socket, opts.backend, opts.secret, opts.log, limits);
    sessions.add(session);
    socket.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => opts.log.error('server error', { error: e }));
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    address: `${host}:${addr.port}`,
    port: addr.port,
    get connectionCount() {
      return sessions.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.close();
        server.close(() => resolve());
      }),
  };
}
