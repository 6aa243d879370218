import { Counter, Histogram, Registry } from 'prom-client';

/** The webhook server's Prometheus metrics, on a registry of its own (several apps can coexist). */
export interface WebhookMetrics {
  readonly registry: Registry;
  /** Reviews answered, by path, kind, operation and whether allowed ("bad-request" for 400s). */
  readonly requests: Counter<'path' | 'kind' | 'operation' | 'result'>;
  /** Refusals by the rule that refused (a closed set: webhooks/findings.ts RuleId). */
  readonly refusals: Counter<'path' | 'kind' | 'reason'>;
  /** Time from the body read to the answer. */
  readonly latency: Histogram<'path'>;
}

/** Creates the metrics on a fresh registry. */
export function createMetrics(): WebhookMetrics {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({ name: 'shorthorn_webhook_requests_total', help: 'Admission requests answered, by path, kind, operation and result (allowed, refused, bad-request).', labelNames: ['path', 'kind', 'operation', 'result'], registers: [registry] }),
    refusals: new Counter({ name: 'shorthorn_webhook_refusals_total', help: 'Admission refusals by the rule that refused.', labelNames: ['path', 'kind', 'reason'], registers: [registry] }),
    latency: new Histogram({
      name: 'shorthorn_webhook_request_duration_seconds',
      help: 'Admission latency, from the parsed body to the answer.',
      labelNames: ['path'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
