import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The delivery worker's Prometheus metrics. */
export class NotifyMetrics {
  readonly attempts: Counter<'kind' | 'outcome'>;
  readonly messages: Counter<'kind'>;
  readonly latency: Histogram;
  readonly backlog: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'beacon_notify_attempts_total',
      help: 'Notifications tried, by channel kind and outcome (sent, retried, failed for good).',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    });
    this.messages = new Counter({
      name: 'beacon_notify_messages_total',
      help: 'Messages sent to services, by channel kind (a grouped message carries several notifications).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.latency = new Histogram({
      name: 'beacon_notify_delivery_seconds',
      help: 'From queueing (the change was stored) to the service accepting the notification.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers,
    });
    this.backlog = new Gauge({
      name: 'beacon_notify_pending',
      help: 'Notifications queued and not yet sent or given up on.',
      registers,
    });
  }
}
