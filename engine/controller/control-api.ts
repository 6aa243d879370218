import express, { type Express, type Response } from 'express';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decode, formatInputError } from '../../api/decode.ts';
import type { Engine } from './engine.ts';
import { describeControlError, type ControlError } from './errors.ts';
import { addReplica, removeReplica } from './membership.ts';
import { engineStatus } from './status.ts';

/**
 * The engine's control API (HTTP+JSON): status, add and remove replicas, expand, Prometheus metrics.
 *   GET    /v1/status               → EngineStatus
 *   POST   /v1/replicas {address}   → 202 {address, rebuild: "full"|"delta"} (the rebuild runs on)
 *   DELETE /v1/replicas/:address    → 204
 *   POST   /v1/expand {sizeBytes}   → 200 {sizeBytes} once every healthy replica has grown
 *   GET    /metrics                 → Prometheus text
 * Errors are {error: message} with the status `statusOf` gives.
 */

const AddReplicaBody = t.type({ address: t.string });
const ExpandBody = t.type({ sizeBytes: t.number });

/** The one mapping from control errors to HTTP statuses. */
export function statusOf(e: ControlError): number {
  switch (e._tag) {
    case 'NotFound':
      return 404;
    case 'AlreadyPresent':
    case 'NoSource':
    case 'LastReplica':
      return 409;
    case 'Incompatible':
      return 422;
    case 'Unreachable':
      return 502;
  }
}

function fail(res: Response, e: ControlError): void {
  res.status(statusOf(e)).json({ error: describeControlError(e) });
}

/** The express app of an engine's control API (never listens: the caller does). */
export function createControlApp(engine: Engine): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));

  app.get('/v1/status', async (_req, res) => {
    res.json(await engineStatus(engine));
  });

  app.post('/v1/replicas', async (req, res) => {
    const body = decode(AddReplicaBody, req.body);
    if (E.isLeft(body)) {
      res.status(400).json({ error: formatInputError(body.left) });
      return;
    }
    const r = await addReplica(engine, body.right.address);
    if (E.isLeft(r)) return fail(res, r.left);
    r.right.done.catch(() => undefined);
    res.status(202).json({ address: body.right.address, rebuild: r.right.kind });
  });

  app.delete('/v1/replicas/:address', async (req, res) => {
    const r = await removeReplica(engine, req.params.address);
    if (E.isLeft(r)) return fail(res, r.left);
    res.status(204).end();
  });

  app.post('/v1/expand', async (req, res) => {
    const body = decode(ExpandBody, req.body);
    if (E.isLeft(body)) {
      res.status(400).json({ error: formatInputError(body.left) });
      return;
    }
    try {
      await engine.expand(body.right.sizeBytes);
      res.json({ sizeBytes: engine.sizeBytes });
    } catch (e) {
      const err = e as Error & { code?: string };
      // EINVAL: a size the volume cannot take; anything else: the replicas could not grow.
      res.status(err.code === 'EINVAL' ? 422 : 503).json({ error: err.message });
    }
  });

  app.get('/metrics', async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await engine.metrics.text());
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'no such endpoint' });
  });
  // Express: a 4-argument handler is the error handler (malformed JSON lands here).
  app.use((err: Error & { status?: number }, _req: express.Request, res: Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}
