import * as E from 'fp-ts/Either';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';
import { decode, formatInputError } from '../../api/decode.ts';
import { ExtenderArgs, type ExtenderFilterResult, type HostPriority, type KubeNode } from './codecs.ts';
import type { ExtenderDeps } from './deps.ts';
import { nodeNamesJson, parseJsonBody, utf8BodyText } from './json-body.ts';
import { filterNodes } from './filter.ts';
import { prioritizeNodes } from './prioritize.ts';
import { resolvePodVolumes, type PodShorthornVolume } from './resolver.ts';

/** Default cap on a request body. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The candidates of a request, in the form it came in. */
interface Candidates {
  readonly names: string[];
  /** Present for the Nodes form: name → the node object as sent (answered back as is). */
  readonly nodes?: Map<string, KubeNode>;
}

type Parsed = { readonly args: ExtenderArgs; readonly candidates: Candidates };

/** Decodes a request body; the message names the field that is wrong. */
function parseArgs(body: unknown): E.Either<string, Parsed> {
  const r = decode(ExtenderArgs, body);
  if (E.isLeft(r)) return E.left(`invalid ExtenderArgs: ${formatInputError(r.left)}`);
  const args = r.right;
  if (args.NodeNames !== undefined && args.NodeNames !== null) return E.right({ args, candidates: { names: args.NodeNames } });
  if (args.Nodes !== undefined && args.Nodes !== null) {
    const items = args.Nodes.items ?? [];
    return E.right({ args, candidates: { names: items.map((n) => n.metadata.name), nodes: new Map(items.map((n) => [n.metadata.name, n as KubeNode])) } });
  }
  return E.left('invalid ExtenderArgs: one of Nodes or NodeNames is required');
}

/** Content types read as UTF-8 JSON by the shortcut: none, or application/json with no charset or utf-8. */
const UTF8_JSON = /^application\/json\s*(;\s*charset=("?)utf-8\2\s*)?$/i;

function isUtf8Json(contentType: string | undefined): boolean {
  return contentType === undefined || UTF8_JSON.test(contentType);
}

/**
 * Drops the parsed body once the answer is written. Node keeps the request object reachable from
 * its connection until the next request arrives, and with it 5,000 names and the body's text: a
 * young-generation collection between two calls would copy them all (1–3 ms) for nothing.
 */
function releaseBody(req: Request): void {
  req.body = undefined;
}

class Timeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function filterAnswer(c: Candidates, passed: readonly string[], failed: Record<string, string>, unresolvable: Record<string, string>, error: string): ExtenderFilterResult {
  // NodeNames form: the passing names as they are (a 5,000-entry Set or copy per call is wasted work).
  if (c.nodes === undefined) return { Nodes: null, NodeNames: passed, FailedNodes: failed, FailedAndUnresolvableNodes: unresolvable, Error: error };
  const keep = new Set(passed);
  return {
    Nodes: { items: [...c.nodes.values()].filter((n) => keep.has(n.metadata.name)) },
    NodeNames: null,
    FailedNodes: failed,
    FailedAndUnresolvableNodes: unresolvable,
    Error: error,
  };
}

/**
 * The bytes of JSON.stringify(answer), with the NodeNames list written by nodeNamesJson: when every
 * candidate passes, the list is the request's own, and its text goes back without a walk over
 * 5,000 strings. The parts are encoded straight into one buffer: joined into one string first, the
 * 64 KiB list would be copied once more on the heap before encoding.
 * NOTE: the keys in the order of ExtenderFilterResult, as JSON.stringify writes them.
 */
function filterJson(a: ExtenderFilterResult): Buffer {
  if (a.NodeNames === null) return Buffer.from(JSON.stringify(a));
  const parts = [`{"Nodes":${JSON.stringify(a.Nodes)},"NodeNames":`, nodeNamesJson(a.NodeNames), `,"FailedNodes":${JSON.stringify(a.FailedNodes)},"FailedAndUnresolvableNodes":${JSON.stringify(a.FailedAndUnresolvableNodes)},"Error":${JSON.stringify(a.Error)}}`];
  let length = 0;
  for (const p of parts) length += Buffer.byteLength(p);
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const p of parts) at += out.write(p, at);
  return out;
}

/**
 * The kube-scheduler extender: POST /filter and /prioritize (ExtenderArgs in both forms, answers in
 * the matching form), GET /healthz and /metrics. Malformed or oversized bodies get 400 with a
 * message; a body that parses but whose volumes cannot be resolved gets a filter answer with Error.
 * Never a 500: every failure is an answer. Never listens: the caller does (cli/serve.ts, tests).
 */
export function createApp(deps: ExtenderDeps): express.Express {
  const registry = new Registry();
  const duration = new Histogram({ name: 'shorthorn_extender_request_duration_seconds', help: 'Time to answer an extender request', labelNames: ['verb'], buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1, 5], registers: [registry] });
  const requests = new Counter({ name: 'shorthorn_extender_requests_total', help: 'Extender requests by verb and outcome', labelNames: ['verb', 'outcome'], registers: [registry] });
  const rejected = new Counter({ name: 'shorthorn_extender_rejected_nodes_total', help: 'Nodes the filter rejected', registers: [registry] });
  const timeoutMs = deps.timeoutMs ?? 4000;

  const app = express();
  app.disable('x-powered-by');
  // No ETag: the scheduler never revalidates, and hashing a 100 KiB answer per call is wasted work.
  app.set('etag', false);
  // kube-scheduler sends application/json; any type is read as JSON so a missing header is not a silent empty body.
  const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const json = express.json({ limit, type: () => true, strict: true });
  // The same reading (limits, content-encoding, errors) as bytes, decoded once, then parsed by parseJsonBody:
  // body-parser's strict JSON with a shortcut for NodeNames (json-body.ts). Only for UTF-8 bodies, json()'s default.
  const raw = express.raw({ limit, type: () => true });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!isUtf8Json(req.headers['content-type'])) return json(req, res, next);
    raw(req, res, (err?: unknown) => {
      if (err !== undefined || !Buffer.isBuffer(req.body)) return next(err);
      const parsed = parseJsonBody(utf8BodyText(req.body));
      if (E.isLeft(parsed)) return next(Object.assign(new SyntaxError(parsed.left.message), { type: 'entity.parse.failed' }));
      req.body = parsed.right;
      next();
    });
  });

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  const resolve = (p: Parsed): Promise<E.Either<{ message: string }, PodShorthornVolume[]>> => withTimeout(resolvePodVolumes(deps.kube, p.args.Pod), timeoutMs);

  app.post('/filter', async (req: Request, res: Response) => {
    const end = duration.startTimer({ verb: 'filter' });
    const p = parseArgs(req.body);
    if (E.isLeft(p)) {
      requests.inc({ verb: 'filter', outcome: 'bad-request' });
      res.status(400).json({ Error: p.left });
      end();
      return;
    }
    const c = p.right.candidates;
    let answer: ExtenderFilterResult;
    try {
      const vols = await resolve(p.right);
      if (E.isLeft(vols)) answer = filterAnswer(c, [], {}, {}, vols.left.message);
      else {
        const out = filterNodes(deps, c.names, c.nodes, vols.right);
        answer = E.isLeft(out) ? filterAnswer(c, [], {}, {}, out.left.message) : filterAnswer(c, out.right.passed, out.right.failed, out.right.unresolvable, '');
        if (E.isRight(out)) rejected.inc(c.names.length - out.right.passed.length);
      }
    } catch (err) {
      deps.log?.warn('filter failed', { pod: p.right.args.Pod.metadata.name, err });
      answer = filterAnswer(c, [], {}, {}, err instanceof Timeout ? `resolving the pod's volumes ${err.message}` : `internal error: ${(err as Error).message}`);
    }
    requests.inc({ verb: 'filter', outcome: answer.Error === '' ? 'ok' : 'error' });
    // express adds the charset only to string bodies: written out, as res.json() would send it.
    res.set('Content-Type', 'application/json; charset=utf-8').send(filterJson(answer));
    releaseBody(req);
    end();
  });

  app.post('/prioritize', async (req: Request, res: Response) => {
    const end = duration.startTimer({ verb: 'prioritize' });
    const p = parseArgs(req.body);
    if (E.isLeft(p)) {
      requests.inc({ verb: 'prioritize', outcome: 'bad-request' });
      res.status(400).json({ Error: p.left });
      end();
      return;
    }
    const names = p.right.candidates.names;
    let answer: HostPriority[];
    try {
      const vols = await resolve(p.right);
      // A prioritize error is ignored by the scheduler; zeros say the same and keep the answer well-formed.
      answer = prioritizeNodes(deps, names, E.isRight(vols) ? vols.right : []);
      requests.inc({ verb: 'prioritize', outcome: E.isRight(vols) ? 'ok' : 'error' });
    } catch (err) {
      deps.log?.warn('prioritize failed', { pod: p.right.args.Pod.metadata.name, err });
      answer = [];
      requests.inc({ verb: 'prioritize', outcome: 'error' });
    }
    res.json(answer);
    releaseBody(req);
    end();
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ Error: 'not found: the extender serves POST /filter, POST /prioritize, GET /healthz, GET /metrics' });
  });

  // Body-parser failures (malformed JSON, too large) and anything else: 400 with a message, never 500.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; message?: string; limit?: number };
    const message = e.type === 'entity.too.large' ? `request body larger than ${e.limit ?? deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES} bytes` : e.type === 'entity.parse.failed' ? `malformed JSON: ${e.message ?? ''}` : `bad request: ${e.message ?? String(err)}`;
    requests.inc({ verb: 'any', outcome: 'bad-request' });
    res.status(400).json({ Error: message });
  });
  return app;
}
