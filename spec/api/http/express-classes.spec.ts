import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressServerClasses } from '../../../api/http/express-classes.ts';

interface Seen {
  readonly requestProtoIsApps: boolean;
  readonly responseProtoIsApps: boolean;
}

function get(port: number, path: string, body?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('express server classes', () => {
  const app = express();
  app.get('/json', (req, res) => {
    res.json({ host: req.get('host') !== undefined, path: req.path });
  });
  app.post('/echo', express.raw({ type: () => true }), (req, res) => {
    res.status(201).type('text/plain').send(req.is('application/json') ? String(req.body) : 'not json');
  });
  const seen: Seen[] = [];
  let server: Server;
  let port: number;

  before(async () => {
    const classes = expressServerClasses(app);
    server = createServer(classes, (req: IncomingMessage, res: ServerResponse) => {
      seen.push({ requestProtoIsApps: Object.getPrototypeOf(req) === app.request, responseProtoIsApps: Object.getPrototypeOf(res) === app.response });
      app(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const cases = [
    { name: 'GET answered with res.json, req.get and req.path working', path: '/json', body: undefined, status: 200, type: /application\/json/, text: '{"host":true,"path":"/json"}' },
    { name: 'POST read by a body parser, req.is and res.status/type/send working', path: '/echo', body: '{"a":1}', status: 201, type: /text\/plain/, text: '{"a":1}' },
    { name: 'an unknown path gets express\'s own 404', path: '/nowhere', body: undefined, status: 404, type: /text\/html/, text: 'Cannot GET /nowhere' },
  ] as const;
  for (const c of cases) {
    it(`builds objects express takes as its own: ${c.name}`, async () => {
      const before = seen.length;
      const r = await get(port, c.path, c.body);
      assert.equal(r.status, c.status);
      assert.match(r.type, c.type);
      assert.ok(r.body.includes(c.text), r.body);
      assert.deepEqual(seen.slice(before), [{ requestProtoIsApps: true, responseProtoIsApps: true }]);
    });
  }
});
