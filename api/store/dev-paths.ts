import { resolve } from 'node:path';

/** The kubeconfig `shorthorn dev up` writes into its data directory. */
export function devKubeconfigPath(dataDir: string): string {
  return resolve(dataDir, 'kubeconfig');
}

/** The default data directory of `shorthorn dev up`: $SHORTHORN_DATA or ./.shorthorn. */
export function defaultDataDir(): string {
  return resolve(process.env.SHORTHORN_DATA ?? '.shorthorn');
}
