import express, { type Request, type Response, type NextFunction } from 'express';
import type { Server } from 'node:http';
import { API_VERSION, GROUP, VERSION } from '../codecs/meta.ts';
import { KINDS, kindOfPlural, type Kind } from '../kinds.ts';
import type { Logger } from '../log.ts';
import { isStoreError, StoreError, toStatus } from './errors.ts';
import type { JsonPatchOp, ObjectStore, Patch, WatchEvent } from './port.ts';

/**
 * The Kubernetes REST surface of an ObjectStore: the paths, verbs, bodies, Status errors and
 * watch stream of a kube-apiserver for our namespaced custom resources
 * (`/apis/shorthorn.io/v1beta1/namespaces/{ns}/{plural}[/{name}[/status]]`). `shorthorn dev up`
 * serves the embedded store with it, so the same Kubernetes adapter (client-node) and the
 * same CLI work against a real cluster and against one machine.
 */
export interface ApiServerDeps {
  readonly store: ObjectStore;
  readonly log?: Logger;
  /** Largest request body accepted (the kube-apiserver's own limit is 3 MiB). */
  readonly bodyLimitBytes?: number;
}

function sendError(res: Response, e: unknown, log?: Logger): void {
  const err = isStoreError(e) ? e : new StoreError('InternalError', e instanceof Error ? e.message : String(e));
  if (err.reason === 'InternalError') log?.error('request failed', { err: e });
  res.status(err.code).json(toStatus(err));
}

function kindOf(req: Request, store: ObjectStore): Kind {
  const { ns, plural } = req.params as { ns: string; plural: string };
  const kind = kindOfPlural(plural);
  if (kind === undefined) throw new StoreError('NotFound', `the server could not find the requested resource (${plural}.${GROUP})`);
  if (ns !== store.namespace) throw new StoreError('NotFound', `namespace "${ns}" not found (this server serves ${store.namespace})`);
  return kind;
}

function dryRun(req: Request): boolean {
  const v = req.query.dryRun;
  if (v === undefined) return false;
  if (v === 'All') return true;
  throw new StoreError('BadRequest', `dryRun: supported value is "All", got ${JSON.stringify(v)}`);
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new StoreError('BadRequest', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

function toPatch(req: Request): Patch {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type === 'application/json-patch+json') {
    if (!Array.isArray(req.body)) throw new StoreError('BadRequest', 'a JSON patch must be an array of operations');
    return { type: 'json', ops: req.body as JsonPatchOp[] };
  }
  if (type === 'application/merge-patch+json') return { type: 'merge', value: requireObject(req.body) };
  throw new StoreError('BadRequest', `unsupported patch content type ${JSON.stringify(type)}: use application/json-patch+json or application/merge-patch+json (strategic merge does not apply to custom resources)`);
}

/** Streams watch events as newline-delimited JSON, as the API server does. */
function streamWatch(req: Request, res: Response, store: ObjectStore, kind: Kind): void {
  const q = req.query as Record<string, string | undefined>;
  res.status(200).set({ 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  const write = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + '\n');
  const handle = store.watch(
    kind,
    { resourceVersion: q.resourceVersion, labelSelector: q.labelSelector, allowBookmarks: q.allowWatchBookmarks === 'true' },
    (e: WatchEvent) => {
      if (e.type === 'BOOKMARK') write('BOOKMARK', { apiVersion: API_VERSION, kind, metadata: { resourceVersion: e.resourceVersion } });
      else write(e.type, e.object);
    },
  );
  const timeoutS = Number(q.timeoutSeconds ?? '0');
  const timer = timeoutS > 0 ? setTimeout(() => handle.stop(), timeoutS * 1000) : undefined;
  req.on('close', () => handle.stop());
  handle.done.then(
    () => res.end(),
    (err: unknown) => {
      // A watch that cannot resume ends with an ERROR event carrying a 410 Status (reason Expired).
      const st = isStoreError(err, 'Gone') ? { ...toStatus(err), reason: 'Expired' } : toStatus(isStoreError(err) ? err : new StoreError('InternalError', String(err)));
      write('ERROR', st);
      res.end();
    },
  ).finally(() => timer && clearTimeout(timer));
}

/** Builds the express app (never listens: `listenApiServer` or a test does). */
export function createApiServerApp(deps: ApiServerDeps): express.Express {
  const { store, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  const limit = deps.bodyLimitBytes ?? 3 * 1024 * 1024;
  app.use(express.json({ limit, type: ['application/json', 'application/*+json'] }));
  const base = `/apis/${GROUP}/${VERSION}/namespaces/:ns/:plural`;
  const wrap = (fn: (req: Request, res: Response) => Promise<void> | void) => async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (e) {
      sendError(res, e, log);
    }
  };
  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok'));
  app.get('/readyz', (_req, res) => void res.type('text/plain').send('ok'));
  app.get('/version', (_req, res) => void res.json({ major: '1', minor: '31', gitVersion: 'v1.31.0-shorthorn-dev', platform: `${process.platform}/${process.arch}` }));
  app.get(`/apis/${GROUP}/${VERSION}`, (_req, res) => {
    res.json({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: API_VERSION,
      resources: Object.entries(KINDS).flatMap(([kind, k]) => [
        { name: k.plural, singularName: k.singular, namespaced: true, kind, shortNames: k.shortNames, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
        ...(k.hasStatus ? [{ name: `${k.plural}/status`, singularName: '', namespaced: true, kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]),
    });
  });
  app.get(base, wrap(async (req, res) => {
    const kind = kindOf(req, store);
    const q = req.query as Record<string, string | undefined>;
    if (q.watch === 'true' || q.watch === '1') return streamWatch(req, res, store, kind);
    const { items, resourceVersion } = await store.list(kind, { labelSelector: q.labelSelector });
    res.json({ apiVersion: API_VERSION, kind: `${kind}List`, metadata: { resourceVersion }, items });
  }));
  app.post(base, wrap(async (req, res) => {
    const kind = kindOf(req, store);
    res.status(201).json(await store.create(kind, requireObject(req.body) as never, { dryRun: dryRun(req) }));
  }));
  app.get(`${base}/:name`, wrap(async (req, res) => void res.json(await store.get(kindOf(req, store), String(req.params.name)))));
  app.get(`${base}/:name/status`, wrap(async (req, res) => void res.json(await store.get(kindOf(req, store), String(req.params.name)))));
  const put = (status: boolean) => wrap(async (req, res) => {
    const kind = kindOf(req, store);
    const body = requireObject(req.body) as { metadata?: { name?: string } };
    if (body.metadata?.name !== req.params.name) throw new StoreError('BadRequest', `the name of the object (${String(body.metadata?.name)}) does not match the name on the URL (${String(req.params.name)})`);
    const opts = { dryRun: dryRun(req) };
    res.json(status ? await store.updateStatus(kind, body as never, opts) : await store.update(kind, body as never, opts));
  });
  app.put(`${base}/:name`, put(false));
  app.put(`${base}/:name/status`, put(true));
  const patch = (status: boolean) => wrap(async (req, res) => {
    const kind = kindOf(req, store);
    res.json(await store.patch(kind, String(req.params.name), toPatch(req), { dryRun: dryRun(req), ...(status ? { subresource: 'status' as const } : {}) }));
  });
  app.patch(`${base}/:name`, patch(false));
  app.patch(`${base}/:name/status`, patch(true));
  app.delete(`${base}/:name`, wrap(async (req, res) => {
    const kind = kindOf(req, store);
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as { preconditions?: { resourceVersion?: string } };
    const rv = body.preconditions?.resourceVersion;
    res.json(await store.delete(kind, String(req.params.name), { dryRun: dryRun(req), ...(rv !== undefined ? { resourceVersion: rv } : {}) }));
  }));
  app.use((req: Request, res: Response) => sendError(res, new StoreError('NotFound', `the server could not find the requested resource (${req.method} ${req.path})`)));
  // Body parser failures (bad JSON, too large) end here: answer a Status, never a stack.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; message?: string; status?: number };
    if (e.type === 'entity.too.large') return sendError(res, new StoreError('BadRequest', `the request body is larger than ${limit} bytes`));
    if (e.type === 'entity.parse.failed') return sendError(res, new StoreError('BadRequest', `the request body is not valid JSON: ${e.message ?? ''}`));
    sendError(res, new StoreError('BadRequest', e.message ?? 'bad request'));
  });
  return app;
}

/** Listens on host:port (0 = any); resolves with the server and the actual address. */
export async function listenApiServer(deps: ApiServerDeps, host: string, port: number): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const app = createApiServerApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
