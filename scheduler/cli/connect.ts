import type { Invocation } from '../../api/cli/command.ts';
import { findKubeconfig, kubeConfigForServer } from '../../api/store/connect.ts';
import type { KubeVolumeView } from '../extender/resolver.ts';

export { storeFor } from '../../api/cli/connect.ts';

/** The PVC/PV/StorageClass view of the cluster the invocation points at (the extender's read port). */
export async function kubeViewFor(inv: Invocation): Promise<KubeVolumeView> {
  const k8s = await import('@kubernetes/client-node');
  const { ClientKubeView } = await import('../extender/client-kube-view.ts');
  const s = (k: string) => (typeof inv.values[k] === 'string' ? (inv.values[k] as string) : undefined);
  const server = s('server');
  let kc: InstanceType<typeof k8s.KubeConfig>;
  if (server !== undefined) kc = kubeConfigForServer(server);
  else {
    kc = new k8s.KubeConfig();
    const file = findKubeconfig(s('kubeconfig'));
    if (file !== undefined) kc.loadFromFile(file);
    else kc.loadFromDefault();
  }
  const { CachedKubeView } = await import('../extender/cached-kube-view.ts');
  return new CachedKubeView(new ClientKubeView(kc));
}
