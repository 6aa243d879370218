import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { EmbeddedStore } from '../../api/store/embedded.ts';
import { startWebhookServer, type WebhookServer } from '../../webhooks/server.ts';
import { ensureSelfSigned, serviceDnsNames } from '../../webhooks/tls/self-signed.ts';
import { fixture } from './harness.ts';

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly serial: string;
}

/** One request on a fresh TLS connection (so a reloaded certificate is seen), verified against `ca`. */
function call(port: number, ca: string, path: string, opts: { body?: string; servername?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.body === undefined ? 'GET' : 'POST', ca, agent: false, servername: opts.servername ?? 'localhost', headers: opts.body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), serial }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('webhook HTTPS server', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'shorthorn-webhooks-'));
  const names = serviceDnsNames('shorthorn-webhooks', 'shorthorn-system');
  let store: EmbeddedStore;
  let server: WebhookServer;
  let ca: string;

  before(async () => {
    ca = ensureSelfSigned(dir, names).caPem;
    store = EmbeddedStore.open();
    server = await startWebhookServer({ host: '127.0.0.1', port: 0, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), store, reloadIntervalMs: 20 });
  });
  after(async () => {
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /healthz and /readyz over TLS verified against the CA, for the service DNS name', async () => {
    assert.equal((await call(server.port, ca, '/healthz', { servername: 'shorthorn-webhooks.shorthorn-system.svc' })).status, 200);
    assert.equal((await call(server.port, ca, '/readyz')).status, 200);
  });

  it('answers an AdmissionReview on /validate', async () => {
    const r = await call(server.port, ca, '/validate', { body: JSON.stringify(fixture('volume-update-shrink')) });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).response.status.message, 'spec.size: cannot shrink from 10Gi to 5Gi');
  });

  it('answers 400 to a body that is not JSON, and keeps serving', async () => {
    assert.equal((await call(server.port, ca, '/mutate', { body: '{{{' })).status, 400);
    assert.equal((await call(server.port, ca, '/healthz')).status, 200);
  });

  it('swaps in a new certificate when the files change, without a restart', async () => {
    const before = await call(server.port, ca, '/healthz');
    const reloaded = once(server.reloader, 'reload');
    const next = ensureSelfSigned(dir, names);
    await reloaded;
    const afterReload = await call(server.port, ca, '/healthz');
    assert.notEqual(afterReload.serial, before.serial);
    assert.equal(afterReload.serial.toLowerCase(), new X509Certificate(next.certPem).serialNumber.toLowerCase());
  });

  it('keeps the current certificate when the new files do not load (mid-rotation)', async () => {
    const before = await call(server.port, ca, '/healthz');
    const failed = once(server.reloader, 'reload-failed');
    writeFileSync(join(dir, 'tls.crt'), 'not a certificate');
    await failed;
    const still = await call(server.port, ca, '/healthz');
    assert.equal(still.serial, before.serial);
    // Rotation completes: the next good pair is taken.
    const reloaded = once(server.reloader, 'reload');
    ensureSelfSigned(dir, names);
    await reloaded;
    assert.notEqual((await call(server.port, ca, '/healthz')).serial, before.serial);
  });
});
