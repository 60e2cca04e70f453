import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one process. Each app instance owns its registry (tests run several). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'baton_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'baton_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly bytesIn = new Counter({
    name: 'baton_http_request_bytes_total',
    help: 'Bytes of request bodies received (by declared Content-Length)',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly bytesOut = new Counter({
    name: 'baton_http_response_bytes_total',
    help: 'Bytes of response bodies sent (by declared Content-Length)',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'baton_' });
  }
}
