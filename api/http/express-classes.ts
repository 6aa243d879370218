import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type express from 'express';

/** The request and response classes an http(s) server builds its objects with. */
export interface ServerClasses {
  readonly IncomingMessage?: typeof IncomingMessage;
  readonly ServerResponse?: typeof ServerResponse;
}

/**
 * Request and response classes whose objects are born with the app's own prototypes
 * (`app.request`, `app.response`), for `createServer({ IncomingMessage, ServerResponse })`.
 *
 * Express 5 re-parents every request and response with `Object.setPrototypeOf` (application.js
 * `app.handle`). Under load that was the server's tail: with it, about 3.5 MB of young objects
 * survived every scavenge (every request's objects promoted; 3–12 ms pauses at 1,000 requests/s,
 * measured with --trace-gc-nvp), where a plain Node handler on the same sockets left ~2 KB. When
 * the prototype is already the app's, express's call is a no-op (same prototype: nothing to
 * change), so express still runs every request, and scavenges fall to ~0.5 ms with ~2 KB left.
 * The extender saw the same between calls (~0.5 MB copied a scavenge — the last call's request, its
 * 5,000 parsed node names and the body's text — 1–3 ms that the next call waited for; now ~120 KB).
 * Used by every express server: the webhooks and the extender.
 */
export function expressServerClasses(app: express.Express): ServerClasses {
  // NOTE: Node's IncomingMessage and ServerResponse are plain functions (Node 20), so they can run on
  // an object we made. Reflect.construct with our new.target would also work for ES classes, but
  // it brought the survivors back (~440 KB a scavenge), so if Node ever makes them classes we fall
  // back to Node's own (express re-parents as before: correct, only slower).
  if (isClass(IncomingMessage) || isClass(ServerResponse)) return {};
  function AppRequest(this: IncomingMessage, socket: Socket): void {
    Reflect.apply(IncomingMessage, this, [socket]);
  }
  AppRequest.prototype = app.request as object;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: unknown): void {
    Reflect.apply(ServerResponse, this, [req, options]);
  }
  AppResponse.prototype = app.response as object;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}

function isClass(f: unknown): boolean {
  return typeof f === 'function' && /^class\b/.test(Function.prototype.toString.call(f));
}
