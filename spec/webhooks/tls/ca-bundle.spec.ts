import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { patchCaBundles } from '../../../webhooks/tls/ca-bundle.ts';

const MANIFESTS = join(import.meta.dirname, '..', '..', '..', 'manifests', 'webhooks');
const PREFIX = '/apis/admissionregistration.k8s.io/v1/';

type Config = { metadata: { name: string }; webhooks: Array<Record<string, any> & { name: string }> };

/** RFC 7386-style merge of objects (what strategic merge does for maps). */
function mergeMaps(a: any, b: any): any {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = v === null ? undefined : mergeMaps(a[k], v);
  return out;
}

/**
 * A FAKE of the Kubernetes API server, faithful for the two calls the webhook server makes: PATCH of a
 * mutating and of a validating webhook configuration with a strategic merge patch, where
 * `webhooks` merges by its patchMergeKey `name` (k8s.io/api admissionregistration/v1 types.go).
 * Other content types get 415, unknown names 404, both as metav1.Status, as the API server answers.
 */
class FakeApiServer {
  readonly configs = new Map<string, Config>();
  readonly calls: Array<{ method: string; url: string; contentType: string; authorization: string }> = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => this.server?.once('listening', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const contentType = req.headers['content-type'] ?? '';
    this.calls.push({ method: req.method ?? '', url: req.url ?? '', contentType, authorization: req.headers.authorization ?? '' });
    const m = /^\/apis\/admissionregistration\.k8s\.io\/v1\/(mutatingwebhookconfigurations|validatingwebhookconfigurations)\/([^/?]+)/.exec(req.url ?? '');
    if (m === null || req.method !== 'PATCH') return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const key = `${m[1]}/${m[2]}`;
    const cur = this.configs.get(key);
    if (cur === undefined) return this.status(res, 404, 'NotFound', `${m[1]}.admissionregistration.k8s.io "${m[2]}" not found`);
    if (!contentType.startsWith('application/strategic-merge-patch+json')) return this.status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
    const patch = JSON.parse(Buffer.concat(chunks).toString()) as Partial<Config>;
    const next: Config = structuredClone(cur);
    for (const w of patch.webhooks ?? []) {
      const i = next.webhooks.findIndex((x) => x.name === w.name);
      if (i < 0) next.webhooks.push(w);
      else next.webhooks[i] = mergeMaps(next.webhooks[i], w);
    }
    this.configs.set(key, next);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(next));
  }
}

function apiFor(server: string): AdmissionregistrationV1Api {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'webhooks', token: 'sa-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'webhooks' }],
    currentContext: 'fake',
  });
  return kc.makeApiClient(AdmissionregistrationV1Api);
}

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('patchCaBundles (against a fake API server)', { timeout: 60_000 }, () => {
  const fake = new FakeApiServer();
  let url: string;
  before(async () => {
    url = await fake.start();
  });
  after(() => fake.stop());

  it('sets caBundle on both configurations from manifests/webhooks, leaving the rest as it was', async () => {
    const mutating = parse(readFileSync(join(MANIFESTS, 'mutating-webhook-configuration.yaml'), 'utf8')) as Config;
    const validating = parse(readFileSync(join(MANIFESTS, 'validating-webhook-configuration.yaml'), 'utf8')) as Config;
    fake.configs.set(`mutatingwebhookconfigurations/${mutating.metadata.name}`, mutating);
    fake.configs.set(`validatingwebhookconfigurations/${validating.metadata.name}`, validating);
    await patchCaBundles(apiFor(url), CA);
    assert.deepEqual(fake.calls.map((c) => [c.method, c.url.split('?')[0], c.contentType, c.authorization]), [
      ['PATCH', `${PREFIX}mutatingwebhookconfigurations/shorthorn-mutating`, 'application/strategic-merge-patch+json', 'Bearer sa-token'],
      ['PATCH', `${PREFIX}validatingwebhookconfigurations/shorthorn-validating`, 'application/strategic-merge-patch+json', 'Bearer sa-token'],
    ]);
    for (const [key, original] of [[`mutatingwebhookconfigurations/shorthorn-mutating`, mutating], [`validatingwebhookconfigurations/shorthorn-validating`, validating]] as const) {
      const stored = fake.configs.get(key) as Config;
      assert.equal(stored.webhooks.length, original.webhooks.length, 'no webhook added: the names match the manifests');
      const w = stored.webhooks[0] as Record<string, any>;
      assert.equal(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), CA);
      assert.deepEqual({ ...w, clientConfig: { ...w.clientConfig, caBundle: undefined } }, { ...original.webhooks[0], clientConfig: { ...original.webhooks[0]?.clientConfig, caBundle: undefined } });
    }
  });

  it('fails with the API error when a configuration is missing', async () => {
    fake.configs.clear();
    await assert.rejects(patchCaBundles(apiFor(url), CA), (e: Error & { code?: number }) => e.code === 404);
  });
});
