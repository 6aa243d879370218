import type { Invocation } from '../../api/cli/command.ts';
import { connectStore } from '../../api/store/connect.ts';
import type { ObjectStore } from '../../api/store/port.ts';

/** Connects with the invocation's connection flags. */
export function storeFor(inv: Invocation): Promise<ObjectStore> {
  const s = (k: string) => (typeof inv.values[k] === 'string' ? (inv.values[k] as string) : undefined);
  const kubeconfig = s('kubeconfig');
  const server = s('server');
  const namespace = s('namespace');
  return connectStore({ ...(kubeconfig ? { kubeconfig } : {}), ...(server ? { server } : {}), ...(namespace ? { namespace } : {}) });
}
