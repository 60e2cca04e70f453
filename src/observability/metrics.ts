import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  readonly events = new Counter({
    name: 'baton_events_total',
    help: 'Events appended to the event log, by type and actor kind',
    labelNames: ['event', 'source'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'baton_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, failed, dead, disabled, denied)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'baton_webhook_retries_total',
    help: 'Webhook delivery attempts that were retries',
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'baton_webhook_dead_letters_total',
    help: 'Deliveries dead-lettered after their last attempt',
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'baton_write_to_delivery_seconds',
    help: 'From the event being recorded to its webhook answered 2xx (first attempts only)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly leaseExpiries = new Counter({
    name: 'baton_ticket_lease_expiries_total',
    help: 'Ticket leases that lapsed and were taken back by this process, by where the ticket went (pending for another attempt, failed after the last). A steady rise means workers die or stall mid-ticket, or leases are too short for the work: heartbeat, or claim with a longer leaseSeconds',
    labelNames: ['next'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Both series exist from the start, so rate() and alerts see 0 rather than nothing.
    for (const next of ['pending', 'failed']) this.leaseExpiries.inc({ next }, 0);
    collectDefaultMetrics({ register: this.registry, prefix: 'baton_' });
    // prom-client names these gauges `*_total`, a suffix Prometheus reserves for counters (promtool rejects
    // it). Handles and requests come from private Node APIs; resources alone tell an operator what is open.
    for (const name of ['nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_requests', 'nodejs_active_requests_total', 'nodejs_active_resources', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(`baton_${name}`);
    }
    new Gauge({
      name: 'baton_nodejs_active_resources',
      help: 'Resources keeping the event loop alive, by type (process.getActiveResourcesInfo)',
      labelNames: ['type'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
        for (const [type, n] of counts) this.set({ type }, n);
      },
    });
  }
}
