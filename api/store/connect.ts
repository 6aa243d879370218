import * as k8s from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { defaultDataDir, devKubeconfigPath } from './dev-paths.ts';
import { KubeStore } from './kube.ts';
import type { ObjectStore } from './port.ts';

/** Where a client finds the control plane. */
export interface ConnectOptions {
  /** A kubeconfig file (a real cluster, or the one `shorthorn dev up` writes). */
  readonly kubeconfig?: string;
  /** A Kubernetes-REST URL without auth (the dev control plane), e.g. http://127.0.0.1:9500. */
  readonly server?: string;
  readonly namespace?: string;
}

export { devKubeconfigPath, defaultDataDir } from './dev-paths.ts';

/** Picks the kubeconfig: the flag, $SHORTHORN_KUBECONFIG, the dev cluster's, then $KUBECONFIG / ~/.kube/config. */
export function findKubeconfig(flag?: string): string | undefined {
  if (flag) return flag;
  if (process.env.SHORTHORN_KUBECONFIG) return process.env.SHORTHORN_KUBECONFIG;
  const dev = devKubeconfigPath(defaultDataDir());
  if (existsSync(dev)) return dev;
  return undefined;
}

/** Builds a KubeConfig for a plain URL (no credentials). */
export function kubeConfigForServer(server: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    // NOTE: client-node refuses plain http unless skipTLSVerify is set; with http there is no TLS to verify.
    clusters: [{ name: 'shorthorn', server, skipTLSVerify: server.startsWith('http://') }],
    users: [{ name: 'shorthorn' }],
    contexts: [{ name: 'shorthorn', cluster: 'shorthorn', user: 'shorthorn' }],
    currentContext: 'shorthorn',
  });
  return kc;
}

/** Connects to a control plane as an ObjectStore. */
export async function connectStore(opts: ConnectOptions = {}): Promise<ObjectStore> {
  let kc: k8s.KubeConfig;
  if (opts.server) kc = kubeConfigForServer(opts.server);
  else {
    kc = new k8s.KubeConfig();
    const file = findKubeconfig(opts.kubeconfig);
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  }
  const ns = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'shorthorn-system';
  return new KubeStore(kc, ns);
}

/** The YAML of a kubeconfig pointing at a dev control plane URL. */
export function devKubeconfigYaml(server: string, namespace: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: shorthorn-dev',
    '  cluster:',
    `    server: ${server}`,
    ...(server.startsWith('http://') ? ['    insecure-skip-tls-verify: true'] : []),
    'users:',
    '- name: shorthorn-dev',
    '  user: {}',
    'contexts:',
    '- name: shorthorn-dev',
    '  context:',
    '    cluster: shorthorn-dev',
    '    user: shorthorn-dev',
    `    namespace: ${namespace}`,
    'current-context: shorthorn-dev',
    '',
  ].join('\n');
}
