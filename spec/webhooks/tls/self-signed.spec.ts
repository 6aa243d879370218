import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSelfSigned, serviceDnsNames } from '../../../webhooks/tls/self-signed.ts';

describe('ensureSelfSigned', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'shorthorn-selfsigned-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the service names a webhook is called by, and localhost', () => {
    assert.deepEqual(serviceDnsNames('shorthorn-webhooks', 'shorthorn-system'), [
      'shorthorn-webhooks',
      'shorthorn-webhooks.shorthorn-system',
      'shorthorn-webhooks.shorthorn-system.svc',
      'shorthorn-webhooks.shorthorn-system.svc.cluster.local',
      'localhost',
    ]);
  });

  it('writes a CA and a serving certificate it signed, for the DNS names and 127.0.0.1', () => {
    const made = ensureSelfSigned(dir, serviceDnsNames('shorthorn-webhooks', 'shorthorn-system'));
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    const cert = new X509Certificate(readFileSync(made.certFile));
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(ca));
    assert.ok(cert.verify(ca.publicKey));
    for (const name of ['shorthorn-webhooks.shorthorn-system.svc', 'shorthorn-webhooks.shorthorn-system.svc.cluster.local', 'localhost']) assert.equal(cert.checkHost(name), name);
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkHost('example.com'), undefined);
    assert.ok(cert.checkPrivateKey(createPrivateKey(made.keyPem)));
    assert.equal(statSync(made.keyFile).mode & 0o777, 0o600);
  });

  it('keeps the CA when run again, and issues a new serving certificate', () => {
    const first = ensureSelfSigned(dir, ['localhost']);
    const second = ensureSelfSigned(dir, ['localhost']);
    assert.equal(second.caPem, first.caPem);
    assert.notEqual(second.certPem, first.certPem);
  });
});

