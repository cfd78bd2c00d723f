import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  /** Sends per statement of the gift route's group commit (api/gifts): 1 when idle, more under load. */
  giftBatchSize: Histogram;
}

/** One registry per process (not prom-client's global), so tests can build many apps side by side. */
export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'streamhub_http_requests_total',
      help: 'HTTP requests by method, matched route and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'streamhub_http_request_duration_seconds',
      help: 'HTTP request latency by method and matched route.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    giftBatchSize: new Histogram({
      name: 'streamhub_gift_batch_size',
      help: 'Gift sends written per statement (group commit): 1 while the API is idle, more under load.',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
  };
}
