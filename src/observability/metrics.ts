import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/** Metrics taken from another thread's registry, as `Registry.getMetricsAsJSON()` gives them. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Every Prometheus metric Beacon exports, in one registry per process. Components receive this object
 * rather than reaching for a global registry, so tests can run many servers in one process.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly accepted = new Counter({
    name: 'beacon_ingest_accepted_total',
    help: 'Records accepted (202) by stream, excluding duplicates.',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'beacon_ingest_duplicates_total',
    help: 'Records answered from an earlier acceptance of the same idempotency key.',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'beacon_http_rejected_total',
    help: 'Requests answered with an error, by stable error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly commitBatchSize = new Histogram({
    name: 'beacon_log_commit_batch_records',
    help: 'Records per log commit (group commit size).',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'beacon_log_commit_seconds',
    help: 'Time to commit one log batch durably.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly logQueued = new Gauge({
    name: 'beacon_log_queued_records',
    help: 'Records waiting for the next log commit.',
    registers: [this.registry],
  });
  readonly sinkBatchSize = new Histogram({
    name: 'beacon_sink_batch_records',
    help: 'Records per sink transaction.',
    labelNames: ['stream'] as const,
    buckets: [1, 10, 50, 100, 500, 1000, 2000, 5000, 10000],
    registers: [this.registry],
  });
  readonly sinkBatchSeconds = new Histogram({
    name: 'beacon_sink_batch_seconds',
    help: 'Time to store one sink batch with its checkpoint.',
    labelNames: ['stream'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly sinkRecords = new Counter({
    name: 'beacon_sink_records_total',
    help: 'Records a sink processed, by whether they made new rows or were duplicates.',
    labelNames: ['stream', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly sinkFailures = new Counter({
    name: 'beacon_sink_batch_failures_total',
    help: 'Sink batches whose transaction failed and will be offered again (the store or log away), by stream and error code.',
    labelNames: ['stream', 'code'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'beacon_sink_dead_letters_total',
    help: 'Records a projection refused, set aside as dead letters (listed at GET /v1/dead-letters), by stream.',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly sinkLastStored = new Gauge({
    name: 'beacon_sink_last_stored_received_seconds',
    help: 'receivedAt of the newest record a sink stored (epoch seconds); now minus this is the lag.',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly sinkLag = new Gauge({
    name: 'beacon_sink_lag_records',
    help: "Records in the log not yet stored by a sink's consumer group (log end offsets minus the group's checkpoints), by stream.",
    labelNames: ['stream', 'group'] as const,
    registers: [this.registry],
  });
  readonly subscribers = new Gauge({
    name: 'beacon_live_subscribers',
    help: 'Open WebSocket subscribers.',
    registers: [this.registry],
  });
  readonly framesDropped = new Counter({
    name: 'beacon_live_dropped_frames_total',
    help: 'Frames not sent to a slow subscriber because its buffer was full.',
    registers: [this.registry],
  });
  readonly framesUnencodable = new Counter({
    name: 'beacon_live_unencodable_records_total',
    help: 'Records whose live frame could not be built; their subscribers got a dropped notice instead.',
    registers: [this.registry],
  });
  readonly slowDisconnects = new Counter({
    name: 'beacon_live_slow_disconnects_total',
    help: 'Subscribers disconnected for being too slow.',
    registers: [this.registry],
  });
  readonly framesSent = new Counter({
    name: 'beacon_live_sent_frames_total',
    help: 'Frames sent to subscribers.',
    registers: [this.registry],
  });
  readonly fanoutSeconds = new Histogram({
    name: 'beacon_live_fanout_seconds',
    help: 'From accepting a record to writing it to a subscriber (per write, its oldest frame).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly #sources: (() => Promise<MetricsSnapshot>)[] = [];

  /** @param options.process false in worker threads: the process metrics come from the main thread. */
  constructor(options: { process?: boolean } = {}) {
    if (options.process !== false) collectDefaultMetrics({ register: this.registry, prefix: 'beacon_' });
  }

  /** Adds metrics kept elsewhere (a worker thread's registry) to what render() exports. */
  addSource(source: () => Promise<MetricsSnapshot>): void {
    this.#sources.push(source);
  }

  /** Prometheus text of this registry plus every source, summed where a metric appears in several. */
  async render(): Promise<string> {
    if (this.#sources.length === 0) return this.registry.metrics();
    const parts = await Promise.all([this.registry.getMetricsAsJSON(), ...this.#sources.map((s) => s())]);
    return AggregatorRegistry.aggregate(parts).metrics();
  }
}
