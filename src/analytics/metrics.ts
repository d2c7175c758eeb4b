import { Counter } from 'prom-client';
import type { Metrics } from '../observability/metrics.ts';

/** Collection counters, registered in the process's one registry. */
export class CollectMetrics {
  readonly events: Counter<'outcome' | 'transport'>;

  constructor(metrics: Metrics) {
    this.events = new Counter({
      name: 'beacon_analytics_collected_events_total',
      help: 'Events received by /v1/collect and the agent WebSocket, by outcome (accepted, bot, dnt) and transport (http, websocket).',
      labelNames: ['outcome', 'transport'] as const,
      registers: [metrics.registry],
    });
  }
}
