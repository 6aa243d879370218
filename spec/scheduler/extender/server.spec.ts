import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, request, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressServerClasses } from '../../../api/http/express-classes.ts';

function post(port: number, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('an express server with the shared server classes (as the extender serves)', { timeout: 30_000 }, () => {
  it('builds requests and responses with the app prototypes, and express serves them as usual', async () => {
    const app = express();
    app.use(express.json());
    const seen: { req: boolean; res: boolean; node: boolean }[] = [];
    app.post('/echo', (req, res) => {
      seen.push({ req: Object.getPrototypeOf(req) === app.request, res: Object.getPrototypeOf(res) === app.response, node: req instanceof IncomingMessage && res instanceof ServerResponse });
      res.json({ got: req.body as unknown, path: req.path });
    });
    const server = createServer({ ...expressServerClasses(app) }, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const n of [1, 2, 3]) {
        const r = await post(port, '/echo', JSON.stringify({ n }));
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.text), { got: { n }, path: '/echo' });
      }
      assert.deepEqual(seen, [1, 2, 3].map(() => ({ req: true, res: true, node: true })));
      const missing = await post(port, '/nope', '{}');
      assert.equal(missing.status, 404);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
