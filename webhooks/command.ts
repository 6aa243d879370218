import { UsageError, type Command } from '../api/cli/command.ts';

/** `shorthorn webhooks`: the HTTPS admission server. The server's modules load only when it runs. */
export const webhooksCommand: Command = {
  name: 'webhooks',
  summary: 'Serve Shorthorn admission (mutate, validate) over HTTPS as AdmissionReview v1.',
  usage: '--listen HOST:PORT (--tls-cert FILE --tls-key FILE | --self-signed DIR)',
  flags: {
    listen: { type: 'string', help: 'address to listen on', placeholder: 'HOST:PORT', default: '0.0.0.0:9443' },
    'tls-cert': { type: 'string', help: 'serving certificate (PEM); reloaded when the file changes', placeholder: 'FILE' },
    'tls-key': { type: 'string', help: 'private key of the serving certificate (PEM); reloaded when the file changes', placeholder: 'FILE' },
    'self-signed': { type: 'string', help: 'create a CA and a serving certificate in DIR (writes DIR/ca.crt); in a cluster, patch the webhook configurations\' caBundle', placeholder: 'DIR' },
  },
  run: async (inv) => {
    if (inv.values['self-signed'] === undefined && (inv.values['tls-cert'] === undefined || inv.values['tls-key'] === undefined)) {
      throw new UsageError('give --tls-cert and --tls-key, or --self-signed DIR');
    }
    const { runServerCommand } = await import('./serve.ts');
    return runServerCommand(inv);
  },
};
