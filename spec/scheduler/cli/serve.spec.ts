import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { createLogger } from '../../../api/log.ts';
import { startPlacement } from '../../../scheduler/index.ts';
import { MemoryKubeView } from '../../../scheduler/extender/resolver.ts';
import { node, volume } from '../builders.ts';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { runCommand } from '../../../api/cli/command.ts';
import { listenApiServer } from '../../../api/store/apiserver.ts';
import { commands } from '../../../scheduler/index.ts';

describe('placement service', () => {
  it('runs the controller and the extender on its own port, and stops cleanly', { timeout: 20_000 }, async () => {
    const store = EmbeddedStore.open({});
    const svc = await startPlacement({ store, log: createLogger('test', { sink: () => undefined }), extender: { host: '127.0.0.1', port: 0, kube: new MemoryKubeView() } });
    try {
      const n = await store.create('Node', node('n1'));
      await store.updateStatus('Node', { ...n, status: node('n1').status });
      await store.create('Volume', volume('v1', { numberOfReplicas: 1 }));
      await svc.controller.idle();
      assert.equal((await store.list('Replica')).items.length, 1);
      assert.match(svc.extenderUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${svc.extenderUrl}/healthz`);
      assert.equal(await health.text(), 'ok');
      const res = await fetch(`${svc.extenderUrl}/filter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Pod: { metadata: { name: 'p' }, spec: {} }, NodeNames: ['n1', 'n2'] }) });
      assert.deepEqual(((await res.json()) as { NodeNames: string[] }).NodeNames, ['n1', 'n2']);
    } finally {
      await svc.stop();
      store.close();
    }
  });

  it('`shorthorn placement serve` runs against a control plane URL and stops when its signal aborts', { timeout: 90_000 }, async () => {
    const store = EmbeddedStore.open({});
    const api = await listenApiServer({ store }, '127.0.0.1', 0);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const ac = new AbortController();
    try {
      const listening = new Promise<string>((resolve) => {
        let out = '';
        stdout.on('data', (c) => {
          out += String(c);
          const m = /extender listening on (\S+)/.exec(out);
          if (m) resolve(m[1] as string);
        });
      });
      const root = { name: 'shorthorn', summary: 'test', subcommands: commands };
      const exit = runCommand(root, ['placement', 'serve', '--server', api.url, '-n', store.namespace, '--extender-listen', '127.0.0.1:0'], { stdout, stderr, signal: ac.signal });
      const url = await listening;
      assert.equal(await (await fetch(`${url}/healthz`)).text(), 'ok');
      ac.abort();
      assert.equal(await exit, 0);
    } finally {
      await api.close();
      store.close();
    }
  });

  it('says so in one line when the extender address is taken, and stops the controller', { timeout: 20_000 }, async () => {
    const store = EmbeddedStore.open({});
    const first = await startPlacement({ store, log: createLogger('test', { sink: () => undefined }), extender: { host: '127.0.0.1', port: 0, kube: new MemoryKubeView() } });
    try {
      const port = Number(new URL(first.extenderUrl as string).port);
      await assert.rejects(
        startPlacement({ store, log: createLogger('test', { sink: () => undefined }), extender: { host: '127.0.0.1', port, kube: new MemoryKubeView() } }),
        new RegExp(`cannot serve the extender on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
    } finally {
      await first.stop();
      store.close();
    }
  });

  it('serves the extender over HTTPS with --tls-cert/--tls-key', { timeout: 60_000 }, async () => {
    const keys = forge.pki.rsa.generateKeyPair(1024);
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 3_600_000);
    cert.setSubject([{ name: 'commonName', value: '127.0.0.1' }]);
    cert.setIssuer([{ name: 'commonName', value: '127.0.0.1' }]);
    cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    const certPem = forge.pki.certificateToPem(cert);
    const dir = mkdtempSync(join(tmpdir(), 'shorthorn-extender-tls-'));
    writeFileSync(join(dir, 'tls.crt'), certPem);
    writeFileSync(join(dir, 'tls.key'), forge.pki.privateKeyToPem(keys.privateKey));
    const store = EmbeddedStore.open({});
    const svc = await startPlacement({ store, log: createLogger('test', { sink: () => undefined }), extender: { host: '127.0.0.1', port: 0, kube: new MemoryKubeView(), tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') } } });
    try {
      assert.match(svc.extenderUrl ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(`${svc.extenderUrl}/healthz`, { ca: certPem }, (res) => {
          let text = '';
          res.on('data', (c) => (text += String(c)));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(body, 'ok');
    } finally {
      await svc.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
