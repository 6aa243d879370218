import { PatchStrategy, setHeaderOptions, type AdmissionregistrationV1Api } from '@kubernetes/client-node';

/** Shorthorn's webhook configurations and the webhooks in each (manifests/webhooks/). */
export const MUTATING_CONFIGURATION = 'shorthorn-mutating';
export const VALIDATING_CONFIGURATION = 'shorthorn-validating';
export const MUTATING_WEBHOOK = 'mutate.shorthorn.io';
export const VALIDATING_WEBHOOK = 'validate.shorthorn.io';

/** The two calls this needs of AdmissionregistrationV1Api. */
export type CaBundleApi = Pick<AdmissionregistrationV1Api, 'patchMutatingWebhookConfiguration' | 'patchValidatingWebhookConfiguration'>;

/**
 * Sets clientConfig.caBundle of Shorthorn's webhooks to the CA that signed the serving certificate:
 * one strategic-merge PATCH per configuration (webhooks merge by name, so other fields and other
 * webhooks are left as they are).
 */
export async function patchCaBundles(api: CaBundleApi, caPem: string): Promise<void> {
  const caBundle = Buffer.from(caPem).toString('base64');
  const options = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
  const body = (name: string) => ({ webhooks: [{ name, clientConfig: { caBundle } }] });
  await api.patchMutatingWebhookConfiguration({ name: MUTATING_CONFIGURATION, body: body(MUTATING_WEBHOOK) }, options);
  await api.patchValidatingWebhookConfiguration({ name: VALIDATING_CONFIGURATION, body: body(VALIDATING_WEBHOOK) }, options);
}
