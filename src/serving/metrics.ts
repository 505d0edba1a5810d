/**
 * Prometheus metrics of the server (prom-client, on a registry of its own so that several
 * servers in one process — e.g. tests — do not share counters).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's metrics. */
export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  duration: Histogram<'route'>;
  inFlight: Gauge;
  queueDepth: Gauge;
  model: Gauge<'model' | 'model_hash' | 'index_hash' | 'generation'>;
  reloads: Counter<'result'>;
  items: Gauge<'state'>;
}

/** Create the metrics; `gauges()` is read at every scrape for in-flight and queue depth. */
export function createMetrics(gauges: () => { inFlight: number; queued: number }): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'semrec_' });
  return {
    registry,
    requests: new Counter({ name: 'semrec_http_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'status'] as const, registers: [registry] }),
    duration: new Histogram({
      name: 'semrec_http_request_duration_seconds',
      help: 'HTTP request latency (receive to reply) by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'semrec_recommend_in_flight',
      help: 'recommendation requests running now',
      registers: [registry],
      collect() {
        this.set(gauges().inFlight);
      },
    }),
    queueDepth: new Gauge({
      name: 'semrec_recommend_queue_depth',
      help: 'recommendation requests waiting for a free place',
      registers: [registry],
      collect() {
        this.set(gauges().queued);
      },
    }),
    model: new Gauge({ name: 'semrec_model_info', help: 'the model and index being served (value 1)', labelNames: ['model', 'model_hash', 'index_hash', 'generation'] as const, registers: [registry] }),
    reloads: new Counter({ name: 'semrec_reloads_total', help: 'model/index reloads by result (ok, error)', labelNames: ['result'] as const, registers: [registry] }),
    items: new Gauge({ name: 'semrec_index_items', help: 'items of the served index: live (recommendable) and retired', labelNames: ['state'] as const, registers: [registry] }),
  };
}
