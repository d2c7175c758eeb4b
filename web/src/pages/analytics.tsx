/// <reference types="vite/client" />
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { AnalyticsApi, compact, duration, type Site, type StatsRow } from '../analytics-api.ts';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { LiveStream } from '../stream.ts';

const PERIODS = [
  ['day', 'Today'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
  ['month', 'This month'],
] as const;
const INTERVALS = ['hour', 'day', 'week', 'month'] as const;
const TOTALS = [
  'visitors',
  'visits',
  'pageviews',
  'views_per_visit',
  'bounce_rate',
  'visit_duration',
] as const;
const LABELS: Record<string, string> = {
  visitors: 'Unique visitors',
  visits: 'Visits',
  pageviews: 'Page views',
  views_per_visit: 'Views per visit',
  bounce_rate: 'Bounce rate',
  visit_duration: 'Visit duration',
};
const LISTS = [
  ['event:page', 'Top pages', 'pageviews'],
  ['visit:source', 'Top sources', 'visits'],
  ['visit:device', 'Devices', 'visits'],
  ['event:name', 'Events', 'events'],
] as const;

interface Dashboard {
  readonly totals: readonly number[];
  readonly chart: readonly StatsRow[];
  readonly lists: Readonly<Record<string, readonly StatsRow[]>>;
}

function siteFromUrl(): string | null {
  return new URLSearchParams(location.search).get('site');
}

/** `/analytics?site=ID`: one site's dashboard, in the spirit of Plausible. */
export function AnalyticsPage({ session }: PageProps) {
  const api = useRef(new AnalyticsApi(session.token)).current;
  const [sites, setSites] = useState<Site[] | null>(null);
  const [siteId, setSiteId] = useState<string | null>(siteFromUrl);
  const [period, setPeriod] = useState('7d');
  const [interval, setInterval] = useState('day');
  const [data, setData] = useState<Dashboard | null>(null);
  const [live, setLive] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    api
      .sites(abort.signal)
      .then((list) => {
        setSites(list);
        setSiteId((current) => current ?? list[0]?.id ?? null);
      })
      .catch((err: Error) => !abort.signal.aborted && setProblem(err.message));
    return () => abort.abort();
  }, [api]);

  useEffect(() => {
    if (siteId) history.replaceState(null, '', `/analytics?site=${encodeURIComponent(siteId)}`);
  }, [siteId]);

  useEffect(() => {
    if (!siteId) return;
    const abort = new AbortController();
    const { signal } = abort;
    const q = (body: Parameters<AnalyticsApi['query']>[1]) => api.query(siteId, body, signal);
    Promise.all([
      q({ metrics: TOTALS, dateRange: period }),
      q({ metrics: ['visitors', 'pageviews'], dateRange: period, interval }),
      ...LISTS.map(([dim, , metric]) =>
        q({ metrics: ['visitors', metric], dimensions: [dim], dateRange: period, limit: 10 }),
      ),
    ])
      .then(([totals, chart, ...lists]) => {
        setProblem(null);
        setData({
          totals: totals[0]?.metrics ?? [],
          chart: chart,
          lists: Object.fromEntries(LISTS.map(([dim], i) => [dim, lists[i]!])),
        });
      })
      .catch((err: Error) => !signal.aborted && setProblem(err.message));
    return () => abort.abort();
  }, [api, siteId, period, interval]);

  // Live visitors: every page view on /v1/stream for this site re-reads the five-minute count.
  useEffect(() => {
    if (!siteId) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A failed read (the server busy or restarting) is tried again soon, then less often, rather
    // than leaving the figure blank until the next page view or the half-minute age-out.
    let retryMs = 1000;
    let closed = false;
    const refresh = (delayMs = 300) => {
      if (closed) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        api
          .query(siteId, { metrics: ['visitors'], dateRange: 'realtime' })
          .then((rows) => {
            retryMs = 1000;
            setLive(rows[0]?.metrics[0] ?? 0);
          })
          .catch(() => {
            refresh(retryMs);
            retryMs = Math.min(retryMs * 2, 30_000);
          });
      }, delayMs);
    };
    refresh();
    const ageOut = window.setInterval(() => refresh(), 30_000);
    const stream = new LiveStream(
      { token: session.token, streams: ['pageviews'] },
      {
        status: () => undefined,
        opened: () => refresh(),
        failed: () => undefined,
        record: (frame) => frame.entity === siteId && refresh(),
        dropped: () => refresh(),
        rejected: () => undefined,
      },
    );
    stream.start();
    return () => {
      closed = true;
      stream.close();
      clearTimeout(timer);
      window.clearInterval(ageOut);
    };
  }, [api, session.token, siteId]);

  if (sites !== null && sites.length === 0) {
    return (
      <section class="page">
        <header class="toolbar">
          <h1>Analytics</h1>
        </header>
        <div class="placeholder" data-testid="analytics-empty">
          <p class="placeholder-title">No sites yet</p>
          <p>
            <Link href="/sites">Add a site</Link> and paste its snippet into your pages.
          </p>
        </div>
      </section>
    );
  }

  return (
    <section class="page analytics">
      <header class="toolbar">
        <h1>Analytics</h1>
        <select
          aria-label="Site"
          data-testid="analytics-site"
          value={siteId ?? ''}
          onChange={(e) => setSiteId((e.target as HTMLSelectElement).value)}
        >
          {(sites ?? []).map((s) => (
            <option key={s.id} value={s.id}>
              {s.domain}
            </option>
          ))}
        </select>
        <select
          aria-label="Period"
          data-testid="analytics-period"
          value={period}
          onChange={(e) => setPeriod((e.target as HTMLSelectElement).value)}
        >
          {PERIODS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <select
          aria-label="Interval"
          data-testid="analytics-interval"
          value={interval}
          onChange={(e) => setInterval((e.target as HTMLSelectElement).value)}
        >
          {INTERVALS.map((i) => (
            <option key={i} value={i}>
              by {i}
            </option>
          ))}
        </select>
        <dl class="stats">
          <div>
            <dt>Visitors now (5 min)</dt>
            <dd data-testid="analytics-live">{live ?? '–'}</dd>
          </div>
        </dl>
      </header>
      {problem && (
        <div class="notice notice--error" role="alert" data-testid="analytics-problem">
          <span>{problem}</span>
        </div>
      )}
      {data && (
        <>
          <dl class="stats analytics-totals">
            {TOTALS.map((m, i) => (
              <div key={m}>
                <dt>{LABELS[m]}</dt>
                <dd data-testid={`analytics-${m}`}>{format(m, data.totals[i] ?? 0)}</dd>
              </div>
            ))}
          </dl>
          <Chart rows={data.chart} />
          <div class="analytics-lists">
            {LISTS.map(([dim, title, metric]) => (
              <TopList key={dim} title={title} metric={metric} rows={data.lists[dim] ?? []} testId={dim} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}

function format(metric: string, value: number): string {
  if (metric === 'bounce_rate') return `${value}%`;
  if (metric === 'visit_duration') return duration(value);
  if (metric === 'views_per_visit') return value.toFixed(2);
  return compact(value);
}

function TopList(props: { title: string; metric: string; rows: readonly StatsRow[]; testId: string }) {
  const max = Math.max(1, ...props.rows.map((r) => r.metrics[1] ?? 0));
  return (
    <div class="top-list" data-testid={`top-${props.testId}`}>
      <h2>{props.title}</h2>
      {props.rows.length === 0 ? (
        <p class="top-empty">Nothing yet</p>
      ) : (
        <ol>
          {props.rows.map((r) => (
            <li key={r.dimensions.join('|')} style={{ '--share': `${((r.metrics[1] ?? 0) / max) * 100}%` }}>
              <span class="top-label">{r.dimensions[0]}</span>
              <span class="top-value">{compact(r.metrics[1] ?? 0)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** Visitors and page views per interval, drawn by uPlot. */
function Chart({ rows }: { rows: readonly StatsRow[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Bucket labels are local times in the site's zone; draw them as UTC so the axis shows them as-is.
    const xs = rows.map(
      (r) =>
        Date.parse(
          r.dimensions[0]!.replace(' ', 'T') + (r.dimensions[0]!.length > 10 ? ':00Z' : 'T00:00:00Z'),
        ) / 1000,
    );
    const plot = new uPlot(
      {
        width: el.clientWidth || 800,
        height: 240,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        series: [
          {},
          { label: 'Visitors', stroke: '#2f6fed', width: 2, fill: 'rgba(47,111,237,0.08)' },
          { label: 'Page views', stroke: '#8a5cf6', width: 1.5 },
        ],
        scales: { x: { time: true } },
      },
      [xs, rows.map((r) => r.metrics[0] ?? 0), rows.map((r) => r.metrics[1] ?? 0)],
      el,
    );
    return () => plot.destroy();
  }, [rows]);
  return <div class="analytics-chart" ref={box} data-testid="analytics-chart" />;
}
