import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CheckRow } from './model.ts';
import type { Target } from './target.ts';

/**
 * Each target's latest check in Prometheus' text exposition format (0.0.4), under blackbox_exporter's
 * metric names, so dashboards and alert rules written for blackbox read Beacon's checks unchanged.
 * Every series carries `target` (the id), `instance` (what is checked) and `kind`: one series per
 * target per metric, whatever the number of regions or checks. docs/operations.md lists the series.
 */

/** The media type Prometheus asks for and parses as the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** blackbox_exporter's phase names for `probe_http_duration_seconds`, with Beacon's phase of each. */
const HTTP_PHASES = [
  ['resolve', 'dnsMs'],
  ['connect', 'connectMs'],
  ['tls', 'tlsMs'],
  ['processing', 'ttfbMs'],
  ['transfer', 'transferMs'],
] as const;

/** What the exposition keeps of a target's latest check: its labels written once, and numbers. */
export interface ProbeSample {
  /** `target="…",instance="…",kind="…"`, escaped. */
  readonly labels: string;
  readonly kind: Target['kind'];
  readonly success: boolean;
  readonly durationMs: number;
  readonly phases: CheckRow['phases'];
  readonly status: number | null;
  readonly httpVersion: number | null;
  readonly tlsExpiresAt: number | null;
  readonly checkedAt: number;
}

/** A label value as the text format writes it: backslash, double quote and newline escaped. */
export function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** What a target checks, as its `instance` label: the URL, host:port, DNS name or host; a push target's id. */
export function instanceOf(target: Target): string {
  switch (target.kind) {
    case undefined:
    case 'http':
      return target.url;
    case 'tcp':
      return `${target.host}:${target.port}`;
    case 'dns':
      return target.query;
    case 'icmp':
      return target.host;
    case 'push':
      return target.id;
  }
}

/**
 * The sample of a target's latest check; undefined for a paused target (its last check is old news)
 * and for one never checked.
 */
export function probeSample(target: Target, last: CheckRow | undefined): ProbeSample | undefined {
  if (target.paused === true || last === undefined) return undefined;
  const kind = target.kind ?? 'http';
  const version = last.httpVersion === null ? Number.NaN : Number.parseFloat(last.httpVersion);
  return {
    labels: `target="${labelValue(target.id)}",instance="${labelValue(instanceOf(target))}",kind="${kind}"`,
    kind,
    // As blackbox means it: the probe worked (a degraded or in-maintenance check may have).
    success: last.ok,
    durationMs: last.durationMs,
    phases: last.phases,
    status: last.status,
    httpVersion: Number.isFinite(version) ? version : null,
    tlsExpiresAt: last.tlsExpiresAt,
    checkedAt: last.scheduledAt,
  };
}

const seconds = (ms: number) => String(ms / 1000);
/** Kinds whose checks look a name up first, so that their dnsMs is a lookup time. */
const RESOLVING = new Set(['http', 'tcp', 'dns']);

/** A metric family: its lines for one sample ('' when it has none for it). */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly lines: (s: ProbeSample) => string;
}

const FAMILIES: readonly Family[] = [
  {
    name: 'probe_success',
    help: 'Whether the latest check succeeded (1) or failed (0).',
    lines: (s) => `probe_success{${s.labels}} ${s.success ? 1 : 0}\n`,
  },
  {
    name: 'probe_duration_seconds',
    help: 'How long the latest check took, in seconds.',
    lines: (s) => `probe_duration_seconds{${s.labels}} ${seconds(s.durationMs)}\n`,
  },
  {
    name: 'probe_dns_lookup_time_seconds',
    help: 'How long the latest check spent resolving the name (http, tcp and dns checks), in seconds.',
    lines: (s) =>
      RESOLVING.has(s.kind!) ? `probe_dns_lookup_time_seconds{${s.labels}} ${seconds(s.phases.dnsMs)}\n` : '',
  },
  {
    name: 'probe_http_duration_seconds',
    help: 'Seconds the latest http check spent in each phase.',
    lines: (s) =>
      s.kind === 'http'
        ? HTTP_PHASES.map(
            ([phase, field]) =>
              `probe_http_duration_seconds{${s.labels},phase="${phase}"} ${seconds(s.phases[field])}\n`,
          ).join('')
        : '',
  },
  {
    name: 'probe_http_status_code',
    help: 'The status code of the latest http check (0 when no answer came).',
    lines: (s) => (s.kind === 'http' ? `probe_http_status_code{${s.labels}} ${s.status ?? 0}\n` : ''),
  },
  {
    name: 'probe_http_version',
    help: 'The HTTP version of the latest http check’s answer (1.1, 2).',
    lines: (s) =>
      s.kind === 'http' && s.httpVersion !== null ? `probe_http_version{${s.labels}} ${s.httpVersion}\n` : '',
  },
  {
    name: 'probe_ssl_earliest_cert_expiry',
    help: 'When the certificate the latest check saw expires, in Unix seconds.',
    lines: (s) =>
      s.tlsExpiresAt === null
        ? ''
        : `probe_ssl_earliest_cert_expiry{${s.labels}} ${Math.floor(s.tlsExpiresAt / 1000)}\n`,
  },
  {
    name: 'beacon_probe_checked_timestamp_seconds',
    help: 'When the latest check was due (Unix seconds): a stalled prober shows as an old time.',
    lines: (s) => `beacon_probe_checked_timestamp_seconds{${s.labels}} ${Math.floor(s.checkedAt / 1000)}\n`,
  },
];

/** The metric names the exposition carries, in order. */
export const PROBE_METRIC_NAMES = FAMILIES.map((f) => f.name);

/** Samples per chunk: a chunk is a few hundred kilobytes at most. */
const CHUNK = 1000;

/**
 * The exposition of `samples`, one family after another (the format wants each family's lines
 * together), in chunks of CHUNK samples with a turn of the event loop between them, so that 20,000
 * targets never hold it for long.
 */
export async function* exposition(samples: readonly ProbeSample[]): AsyncGenerator<string> {
  for (const family of FAMILIES) {
    yield `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`;
    for (let i = 0; i < samples.length; i += CHUNK) {
      let chunk = '';
      for (const sample of samples.slice(i, i + CHUNK)) chunk += family.lines(sample);
      if (chunk) yield chunk;
      await nextTurn();
    }
  }
}
