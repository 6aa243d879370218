import { parseHostPort, UsageError, type Invocation } from '../../api/cli/command.ts';
import { createLogger } from '../../api/log.ts';
import { startPlacementService } from '../service.ts';
import { kubeViewFor, storeFor } from './connect.ts';

/** `shorthorn placement serve`: the placement controller and, with --extender-listen, the scheduler extender. */
export async function runServe(inv: Invocation): Promise<number> {
  const log = createLogger('placement');
  const listen = typeof inv.values['extender-listen'] === 'string' ? parseHostPort('extender-listen', inv.values['extender-listen'] as string) : undefined;
  const cert = inv.values['tls-cert'];
  const key = inv.values['tls-key'];
  if ((typeof cert === 'string') !== (typeof key === 'string')) throw new UsageError('--tls-cert and --tls-key go together');
  const store = await storeFor(inv);
  const kube = listen === undefined ? undefined : await kubeViewFor(inv);
  const svc = await startPlacementService({
    store,
    log,
    ...(listen !== undefined && kube !== undefined ? { extender: { ...listen, kube, ...(typeof cert === 'string' && typeof key === 'string' ? { tls: { certFile: cert, keyFile: key } } : {}) } } : {}),
  });
  log.info('placement service running', { extender: svc.extenderUrl ?? 'off' });
  if (svc.extenderUrl !== undefined) inv.stdout.write(`extender listening on ${svc.extenderUrl}\n`);
  await new Promise<void>((resolve) => {
    if (inv.signal.aborted) resolve();
    else inv.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await svc.stop();
  log.info('placement service stopped');
  return 0;
}
