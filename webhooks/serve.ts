import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { CommandError, parseHostPort, requireFlag, type Invocation } from '../api/cli/command.ts';
import { createLogger, type Logger } from '../api/log.ts';
import { EmbeddedStore } from '../api/store/embedded.ts';
import { collectDefaultMetrics } from 'prom-client';
import type { StoreReader } from './facts.ts';
import { createMetrics } from './metrics.ts';
import { startWebhookServer } from './server.ts';
import { patchCaBundles } from './tls/ca-bundle.ts';
import { ensureSelfSigned, serviceDnsNames } from './tls/self-signed.ts';

/** The Service in front of the webhook server (manifests/webhooks/service.yaml). */
export const SERVICE_NAME = 'shorthorn-webhooks';
const DEFAULT_NAMESPACE = 'shorthorn-system';
const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function inCluster(): boolean {
  return (process.env.KUBERNETES_SERVICE_HOST ?? '') !== '';
}

function namespace(): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() || DEFAULT_NAMESPACE;
  } catch {
    return DEFAULT_NAMESPACE;
  }
}

async function clusterReader(ns: string): Promise<StoreReader> {
  const k8s = await import('@kubernetes/client-node');
  const { kubeReader } = await import('./kube-reader.ts');
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster();
  return kubeReader(kc.makeApiClient(k8s.CustomObjectsApi), ns);
}

/** Patches the caBundle, retrying every 10 s until it works or the command stops. */
async function publishCa(caPem: string, log: Logger, signal: AbortSignal): Promise<void> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster();
  const api = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  while (!signal.aborted) {
    try {
      await patchCaBundles(api, caPem);
      log.info('caBundle of the webhook configurations patched');
      return;
    } catch (e) {
      log.error('could not patch the caBundle of the webhook configurations; retrying in 10 s', { error: e });
      await new Promise((resolve) => setTimeout(resolve, 10_000, undefined).unref());
    }
  }
}

/**
 * V8 flags for this process. Young-generation GCs here copy ~2 KB (a review's objects die young),
 * so sharing one between threads buys nothing, and when the cores are busy the main thread waits
 * for a helper thread that is not running: at 1,000 reviews/s on 2 shared cores, minor GC pauses
 * summed 30–120 ms per 8 s with parallel scavenging and 22–28 ms without (bench/README.md).
 * V8 reads this flag at each scavenge, so setting it at start-up takes effect.
 */
export const V8_FLAGS = '--no-parallel-scavenge';

/** Runs `shorthorn webhooks` until the signal aborts. */
export async function runServerCommand(inv: Invocation): Promise<number> {
  setFlagsFromString(V8_FLAGS);
  const log = createLogger('webhooks');
  const { host, port } = parseHostPort('listen', requireFlag(inv, 'listen'));
  const ns = namespace();
  let certFile: string;
  let keyFile: string;
  let caPem: string | undefined;
  const selfSigned = inv.values['self-signed'];
  if (typeof selfSigned === 'string' && selfSigned !== '') {
    const made = ensureSelfSigned(selfSigned, serviceDnsNames(SERVICE_NAME, ns));
    ({ certFile, keyFile, caPem } = made);
    log.info('self-signed certificate written', { caFile: made.caFile, certFile });
  } else {
    certFile = requireFlag(inv, 'tls-cert');
    keyFile = requireFlag(inv, 'tls-key');
  }
  let embedded: EmbeddedStore | undefined;
  let store: StoreReader;
  if (inCluster()) store = await clusterReader(ns);
  else {
    // Outside a cluster there is nothing to read: an empty store, so every Setting is its default.
    embedded = EmbeddedStore.open({ namespace: ns });
    store = embedded;
    log.info('not in a cluster: rules use the default Settings');
  }
  const metrics = createMetrics();
  // Process figures (CPU, memory, event loop lag) next to the admission ones.
  collectDefaultMetrics({ register: metrics.registry });
  let server;
  try {
    server = await startWebhookServer({ host, port, certFile, keyFile, store, log, metrics });
  } catch (e) {
    embedded?.close();
    throw new CommandError(`cannot serve on ${host}:${port}: ${(e as Error).message}`);
  }
  inv.stdout.write(`listening on ${server.url}\n`);
  log.info('webhooks listening', { url: server.url });
  if (caPem !== undefined && inCluster()) void publishCa(caPem, log, inv.signal);
  if (!inv.signal.aborted) await new Promise((resolve) => inv.signal.addEventListener('abort', resolve, { once: true }));
  await server.close();
  embedded?.close();
  log.info('webhooks stopped');
  return 0;
}
