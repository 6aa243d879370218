import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type express from 'express';

/** The request and response classes for `http.createServer(options, app)` / `https.createServer`. */
export interface ExtenderServerClasses {
  readonly IncomingMessage?: typeof IncomingMessage;
  readonly ServerResponse?: typeof ServerResponse;
}

/**
 * Request and response classes whose objects start out with the app's prototypes (`app.request`,
 * `app.response`), for the server that serves the extender.
 *
 * Why: express 5 gives every request and response the app's prototypes with Object.setPrototypeOf.
 * Objects re-parented that way outlived V8's young-generation collections: each one copied ~0.5 MB
 * (the last call's request, its 5,000 parsed names and the body's text) and took 1–3 ms, between two
 * calls, where the next call then waited. Born with the app's prototypes, express's call changes
 * nothing, and express still handles every request. The webhooks server found the same
 * (webhooks/express-classes.ts).
 *
 * NOTE: Node 20's IncomingMessage and ServerResponse are plain constructor functions, so they can
 * initialise an object made by another constructor. Should they become ES classes, this answers {}
 * (Node's own classes: correct, only slower).
 */
export function extenderServerClasses(app: express.Express): ExtenderServerClasses {
  if (isEsClass(IncomingMessage) || isEsClass(ServerResponse)) return {};
  function ExtenderRequest(this: IncomingMessage, socket: Socket): void {
    Reflect.apply(IncomingMessage, this, [socket]);
  }
  ExtenderRequest.prototype = app.request as object;
  function ExtenderResponse(this: ServerResponse, req: IncomingMessage, options?: unknown): void {
    Reflect.apply(ServerResponse, this, [req, options]);
  }
  ExtenderResponse.prototype = app.response as object;
  return {
    IncomingMessage: ExtenderRequest as unknown as typeof IncomingMessage,
    ServerResponse: ExtenderResponse as unknown as typeof ServerResponse,
  };
}

function isEsClass(f: unknown): boolean {
  return typeof f === 'function' && /^class\b/.test(Function.prototype.toString.call(f));
}
