import type { Flags } from '../../api/cli/command.ts';

/** The connection flags, named as every other `shorthorn` client command names them. */
export const CONNECT_FLAGS: Flags = {
  kubeconfig: { type: 'string', help: 'kubeconfig file (default: $SHORTHORN_KUBECONFIG, then ./.shorthorn/kubeconfig from `shorthorn dev up`, then ~/.kube/config)', placeholder: 'FILE' },
  server: { type: 'string', help: 'URL of a Kubernetes-style API without credentials (the dev control plane)', placeholder: 'URL' },
  namespace: { type: 'string', short: 'n', help: 'namespace of the Shorthorn objects (default from the kubeconfig, else shorthorn-system)', placeholder: 'NS' },
};
