import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import * as E from 'fp-ts/Either';
import { isKind } from '../api/kinds.ts';
import type { Logger } from '../api/log.ts';
import { runChain, type Phase } from './chain.ts';
import type { StoreReader } from './facts.ts';
import { createMetrics, type WebhookMetrics } from './metrics.ts';
import { jsonDepth, MAX_JSON_DEPTH } from './json-depth.ts';
import { decodeReview, encodeReview } from './review.ts';

/** The API server's own cap on a request body (3 MiB): no real AdmissionReview is larger. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** What the app needs: the store the chain reads, a logger, metrics, and a readiness probe. */
export interface AppDeps {
  readonly store: StoreReader;
  readonly log?: Logger;
  readonly metrics?: WebhookMetrics;
  /** Ready to serve (the certificate is loaded); default: always. */
  readonly ready?: () => boolean;
}

function badRequest(res: Response, message: string): void {
  res.status(400).json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400, message });
}

/** The body as JSON, or the message of a 400 (content type, empty, invalid JSON, too deep). */
function parseBody(req: Request): E.Either<string, unknown> {
  if (!req.is('application/json')) return E.left(`content-type: expected application/json, got ${JSON.stringify(req.get('content-type') ?? '')}`);
  const raw: unknown = req.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return E.left('the request has no body; expected an AdmissionReview');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    return E.left(`the body is not valid JSON: ${(e as Error).message}`);
  }
  if (jsonDepth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return E.left(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return E.right(parsed);
}

/**
 * The admission HTTP app (express 5; never listens): POST /mutate and /validate take and answer
 * AdmissionReview v1; /healthz, /readyz, /metrics. A body that is not an AdmissionReview gets a 400
 * with a message; nothing here answers 500.
 */
export function createApp(deps: AppDeps): express.Express {
  const metrics = deps.metrics ?? createMetrics();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Raw bytes for every content type: the handler checks the type itself, so it can say what was wrong.
  const body = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

  const handle = (phase: Phase, path: string) => async (req: Request, res: Response) => {
    const start = performance.now();
    const parsed = parseBody(req);
    const review = E.isRight(parsed) ? decodeReview(parsed.right) : parsed;
    if (E.isLeft(review)) {
      metrics.requests.inc({ path, kind: '', operation: '', result: 'bad-request' });
      deps.log?.debug('bad admission request', { path, message: review.left });
      return badRequest(res, review.left);
    }
    const { uid, request } = review.right;
    const result = await runChain({ store: deps.store, ...(deps.log ? { log: deps.log } : {}) }, request, phase);
    const kind = isKind(request.kind) ? request.kind : 'unknown';
    metrics.requests.inc({ path, kind, operation: request.operation, result: result.outcome.allowed ? 'allowed' : 'refused' });
    for (const reason of result.rules) metrics.refusals.inc({ path, kind, reason });
    res.json(encodeReview(uid, request.object, result, phase));
    metrics.latency.observe({ path }, (performance.now() - start) / 1000);
  };

  app.post('/mutate', body, handle('mutate', '/mutate'));
  app.post('/validate', body, handle('validate', '/validate'));
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.ready?.() ?? true;
    res.status(ready ? 200 : 503).type('text/plain').send(ready ? 'ok' : 'not ready');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Body read failures (too large, aborted, bad encoding) are the client's: a 400 that says why.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string; message?: string; status?: number };
    const message = e.type === 'entity.too.large' ? `the body is larger than ${MAX_BODY_BYTES} bytes (3 MiB, the API server's own limit)` : `could not read the request: ${e.message ?? String(err)}`;
    deps.log?.debug('bad admission request', { message });
    badRequest(res, message);
  });
  return app;
}
