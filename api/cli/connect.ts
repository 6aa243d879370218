import type { ObjectStore } from '../store/port.ts';
import type { Flags, Invocation } from './command.ts';

/** Flags every command that talks to the control plane takes. */
export const CONNECT_FLAGS: Flags = {
  kubeconfig: { type: 'string', help: 'kubeconfig file (default: $SHORTHORN_KUBECONFIG, then ./.shorthorn/kubeconfig from `shorthorn dev up`, then ~/.kube/config)', placeholder: 'FILE' },
  server: { type: 'string', help: 'URL of a Kubernetes-style API without credentials (the dev control plane)', placeholder: 'URL' },
  namespace: { type: 'string', short: 'n', help: 'namespace of the Shorthorn objects (default from the kubeconfig, else shorthorn-system)', placeholder: 'NS' },
};

/**
 * Connects with the invocation's connection flags. NOTE: client-node takes seconds to load, so it
 * is imported here, when a command needs the store, not when the command tree is built.
 */
export async function storeFor(inv: Invocation): Promise<ObjectStore> {
  const { connectStore } = await import('../store/connect.ts');
  const s = (k: string) => (typeof inv.values[k] === 'string' ? (inv.values[k] as string) : undefined);
  const kubeconfig = s('kubeconfig');
  const server = s('server');
  const namespace = s('namespace');
  return connectStore({ ...(kubeconfig ? { kubeconfig } : {}), ...(server ? { server } : {}), ...(namespace ? { namespace } : {}) });
}
