import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenApiServer } from '../../../api/store/apiserver.ts';
import { connectStore } from '../../../api/store/connect.ts';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { storeContract } from './contract.ts';

// The Kubernetes adapter (client-node) against the dev API server: our fake of the kube-apiserver's
// REST surface for custom resources (paths, Status errors, watch stream, 410 Expired), backed by
// the embedded store. No kube-apiserver runs on this machine.
storeContract('kubernetes adapter against the fake kube-apiserver (dev API server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-kube-'));
  let backing: EmbeddedStore | undefined;
  let server: Awaited<ReturnType<typeof listenApiServer>> | undefined;
  let history = 20000;
  const start = async () => {
    backing = EmbeddedStore.open({ dir, historyLimit: history });
    server = await listenApiServer({ store: backing }, '127.0.0.1', 0);
    return connectStore({ server: server.url });
  };
  const stop = async () => {
    await server?.close();
    backing?.close();
  };
  return {
    async open(opts) {
      history = opts?.historyLimit ?? history;
      return start();
    },
    async restart() {
      await stop();
      return start();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
