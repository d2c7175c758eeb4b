import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The prober's Prometheus metrics, registered in the process's one registry. */
export class MonitorMetrics {
  readonly jitter: Histogram;
  readonly checks: Counter<'outcome' | 'class'>;
  readonly skipped: Counter<'reason'>;
  readonly targets: Gauge;
  readonly running: Gauge;
  readonly waiting: Gauge;
  readonly spooled: Counter;
  readonly spoolDropped: Counter;
  readonly spoolBytes: Gauge;
  readonly fileReloads: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.jitter = new Histogram({
      name: 'beacon_monitor_schedule_jitter_seconds',
      help: 'How late a check started after its slot began (includes waiting for a concurrency place).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.checks = new Counter({
      name: 'beacon_monitor_checks_total',
      help: 'Checks made, by outcome (up or down) and error class.',
      labelNames: ['outcome', 'class'] as const,
      registers,
    });
    this.skipped = new Counter({
      name: 'beacon_monitor_skipped_slots_total',
      help: 'Slots not checked, by reason: per-host-limit or concurrency-limit (the previous check of the target still waited for a place), overrun (it was still running), stalled (the process was late past the slot).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.targets = new Gauge({
      name: 'beacon_monitor_targets',
      help: 'Targets this prober schedules (its shard).',
      registers,
    });
    this.running = new Gauge({ name: 'beacon_monitor_running_checks', help: 'Checks in flight.', registers });
    this.waiting = new Gauge({
      name: 'beacon_monitor_waiting_checks',
      help: 'Due checks waiting for a global or per-host concurrency place.',
      registers,
    });
    this.spooled = new Counter({
      name: 'beacon_monitor_spooled_checks_total',
      help: 'Checks written to the on-disk spool because the log was unavailable.',
      registers,
    });
    this.spoolDropped = new Counter({
      name: 'beacon_monitor_spool_dropped_checks_total',
      help: 'Checks lost because the log was unavailable and the spool was full.',
      registers,
    });
    this.spoolBytes = new Gauge({
      name: 'beacon_monitor_spool_bytes',
      help: 'Bytes waiting in the spool.',
      registers,
    });
    this.fileReloads = new Counter({
      name: 'beacon_monitor_targets_file_reloads_total',
      help: 'Reloads of the targets file, by outcome (applied or rejected).',
      labelNames: ['outcome'] as const,
      registers,
    });
  }
}
