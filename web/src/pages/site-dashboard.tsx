/// <reference types="vite/client" />
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import {
  compact,
  duration,
  type Filter,
  type FunnelAnswer,
  type FunnelStep,
  type JourneyAnswer,
  type JourneyDirection,
  type RetentionAnswer,
  type SiteStats,
  type StatsMeta,
  type StatsRow,
} from '../analytics-api.ts';

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
const GOAL_METRICS = [
  'conversions',
  'conversion_rate',
  'events',
  'total_revenue',
  'average_revenue',
  'revenue_per_visitor',
];
const TABS = [
  ['overview', 'Overview'],
  ['funnels', 'Funnels'],
  ['journeys', 'Journeys'],
  ['retention', 'Retention'],
] as const;

/** A site's dashboard, for its owner or through a shared link: what it reads, and what it knows. */
export interface SiteDashboardProps {
  readonly stats: SiteStats;
  /** The site's goals by name (funnel steps and the goals table). */
  readonly goals: readonly string[];
  readonly segments: readonly { id: string; name: string }[];
  readonly saltRotation: string;
  /** Saves the current filters as a segment (owners only). */
  readonly saveSegment?: (name: string, filters: readonly Filter[]) => Promise<void>;
  /** Extra tabs (the owner's settings), by label. */
  readonly extraTabs?: readonly { id: string; label: string; render: () => ComponentChildren }[];
  /** Shown at the end of the toolbar (the owner's live visitors). */
  readonly toolbar?: ComponentChildren;
}

interface Overview {
  readonly totals: readonly number[];
  readonly totalsMeta: StatsMeta;
  readonly chart: readonly StatsRow[];
  readonly lists: Readonly<Record<string, readonly StatsRow[]>>;
  readonly goals: readonly StatsRow[] | null;
  readonly goalsMeta: StatsMeta | null;
}

/** The tabs of a site's dashboard: overview, funnels, journeys, retention (and the owner's extras). */
export function SiteDashboard(props: SiteDashboardProps) {
  const { stats } = props;
  const [tab, setTab] = useState('overview');
  const [period, setPeriod] = useState('7d');
  const [filters, setFilters] = useState<Filter[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const addFilter = (f: Filter) =>
    setFilters((list) =>
      list.some((x) => x[1] === f[1]) ? list.map((x) => (x[1] === f[1] ? f : x)) : [...list, f],
    );

  return (
    <>
      <header class="toolbar">
        <nav class="tabs" aria-label="Views">
          {[...TABS, ...(props.extraTabs ?? []).map((t) => [t.id, t.label] as const)].map(([id, label]) => (
            <button
              key={id}
              type="button"
              class={`tab${tab === id ? ' tab--active' : ''}`}
              data-testid={`tab-${id}`}
              aria-pressed={tab === id}
              onClick={() => setTab(id)}
            >
              {label}
            </button>
          ))}
        </nav>
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
        {props.toolbar}
      </header>
      <FilterBar
        filters={filters}
        segments={props.segments}
        onChange={setFilters}
        onSave={props.saveSegment && ((name) => props.saveSegment!(name, filters))}
      />
      {problem && (
        <div class="notice notice--error" role="alert" data-testid="analytics-problem">
          <span>{problem}</span>
        </div>
      )}
      {tab === 'overview' && (
        <OverviewTab
          stats={stats}
          period={period}
          filters={filters}
          hasGoals={props.goals.length > 0}
          onFilter={addFilter}
          onProblem={setProblem}
        />
      )}
      {tab === 'funnels' && (
        <FunnelTab
          stats={stats}
          period={period}
          filters={filters}
          goals={props.goals}
          onProblem={setProblem}
        />
      )}
      {tab === 'journeys' && (
        <JourneyTab stats={stats} period={period} filters={filters} onProblem={setProblem} />
      )}
      {tab === 'retention' && (
        <RetentionTab
          stats={stats}
          filters={filters}
          saltRotation={props.saltRotation}
          onProblem={setProblem}
        />
      )}
      {props.extraTabs?.find((t) => t.id === tab)?.render()}
    </>
  );
}

/** The filters in force, a segment picker, and (for owners) saving them as a segment. */
function FilterBar(props: {
  filters: readonly Filter[];
  segments: readonly { id: string; name: string }[];
  onChange: (filters: Filter[]) => void;
  onSave: ((name: string) => Promise<void>) | undefined;
}) {
  const [name, setName] = useState('');
  const segmentName = (id: string) => props.segments.find((s) => s.id === id)?.name ?? id;
  return (
    <div class="filter-bar" data-testid="filter-bar">
      {props.filters.map((f) => (
        <span class="chip" key={f[1]} data-testid="filter-chip">
          {f[1] === 'segment'
            ? `Segment: ${segmentName(f[2][0]!)}`
            : `${f[1]} ${f[0].replace('_', ' ')} ${f[2].join(', ')}`}
          <button
            type="button"
            class="chip-remove"
            aria-label={`Remove filter ${f[1]}`}
            onClick={() => props.onChange(props.filters.filter((x) => x !== f))}
          >
            ×
          </button>
        </span>
      ))}
      {props.segments.length > 0 && (
        <select
          aria-label="Segment"
          data-testid="segment-pick"
          value=""
          onChange={(e) => {
            const id = (e.target as HTMLSelectElement).value;
            if (id)
              props.onChange([...props.filters.filter((f) => f[1] !== 'segment'), ['is', 'segment', [id]]]);
          }}
        >
          <option value="">Apply a segment…</option>
          {props.segments.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      )}
      {props.onSave && props.filters.length > 0 && !props.filters.some((f) => f[1] === 'segment') && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) void props.onSave!(name.trim()).then(() => setName(''));
          }}
        >
          <input
            class="input"
            placeholder="Segment name"
            data-testid="segment-name"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="button button--small" data-testid="segment-save">
            Save as segment
          </button>
        </form>
      )}
    </div>
  );
}

function OverviewTab(props: {
  stats: SiteStats;
  period: string;
  filters: readonly Filter[];
  hasGoals: boolean;
  onFilter: (f: Filter) => void;
  onProblem: (p: string | null) => void;
}) {
  const { stats, period, filters } = props;
  const [interval, setInterval] = useState('day');
  const [data, setData] = useState<Overview | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    const base = { dateRange: period, filters };
    Promise.all([
      stats.query({ metrics: TOTALS, ...base }, signal),
      stats.query({ metrics: ['visitors', 'pageviews'], interval, ...base }, signal),
      ...LISTS.map(([dim, , metric]) =>
        stats.query({ metrics: ['visitors', metric], dimensions: [dim], limit: 10, ...base }, signal),
      ),
      props.hasGoals
        ? stats.query({ metrics: GOAL_METRICS, dimensions: ['event:goal'], ...base }, signal)
        : Promise.resolve(null),
    ])
      .then((answers) => {
        const [totals, chart, ...rest] = answers as ({ results: StatsRow[]; meta: StatsMeta } | null)[];
        const goals = rest.pop() ?? null;
        props.onProblem(null);
        setData({
          totals: totals!.results[0]?.metrics ?? [],
          totalsMeta: totals!.meta,
          chart: chart!.results,
          lists: Object.fromEntries(LISTS.map(([dim], i) => [dim, rest[i]!.results])),
          goals: goals?.results ?? null,
          goalsMeta: goals?.meta ?? null,
        });
      })
      .catch((err: Error) => !signal.aborted && props.onProblem(err.message));
    return () => abort.abort();
  }, [stats, period, interval, filters, props.hasGoals]);

  if (!data) return null;
  return (
    <>
      <dl class="stats analytics-totals">
        {TOTALS.map((m, i) => (
          <div key={m}>
            <dt>{LABELS[m]}</dt>
            <dd data-testid={`analytics-${m}`}>{format(m, data.totals[i] ?? 0)}</dd>
          </div>
        ))}
      </dl>
      {data.totalsMeta.imported && (
        <p class="hint" data-testid="analytics-imported">
          Includes imported data.
        </p>
      )}
      <div class="toolbar">
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
      </div>
      <Chart rows={data.chart} />
      <div class="analytics-lists">
        {LISTS.map(([dim, title, metric]) => (
          <TopList
            key={dim}
            title={title}
            metric={metric}
            rows={data.lists[dim] ?? []}
            testId={dim}
            onPick={(value) => props.onFilter(['is', dim, [value]])}
          />
        ))}
      </div>
      {data.goals && <GoalTable rows={data.goals} meta={data.goalsMeta!} />}
    </>
  );
}

/** Conversions, conversion rate and revenue per goal. */
function GoalTable({ rows, meta }: { rows: readonly StatsRow[]; meta: StatsMeta }) {
  const other = Object.entries(meta.otherCurrencies ?? {});
  return (
    <section class="panel" data-testid="goal-table">
      <h2>Goals</h2>
      <SampleNote sample={meta.sample} />
      {rows.length === 0 ? (
        <p class="top-empty">No conversions in this period</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Goal</th>
              <th>Conversions</th>
              <th>Rate</th>
              <th>Events</th>
              <th>Revenue ({meta.currency})</th>
              <th>Per conversion</th>
              <th>Per visitor</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.dimensions[0]} data-testid="goal-row">
                <td>{r.dimensions[0]}</td>
                <td>{compact(r.metrics[0] ?? 0)}</td>
                <td>{r.metrics[1]}%</td>
                <td>{compact(r.metrics[2] ?? 0)}</td>
                <td>{money(r.metrics[3] ?? 0)}</td>
                <td>{money(r.metrics[4] ?? 0)}</td>
                <td>{money(r.metrics[5] ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {other.length > 0 && (
        <p class="hint">
          Not included (other currencies): {other.map(([c, v]) => `${money(v)} ${c}`).join(', ')}
        </p>
      )}
    </section>
  );
}

const money = (n: number) =>
  n.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function SampleNote({ sample }: { sample: { fraction: number } | null }) {
  if (!sample) return null;
  return (
    <p class="hint" data-testid="sample-note">
      Estimated from {Math.round(sample.fraction * 100)}% of visitors.
    </p>
  );
}

/** Builds a funnel from the site's goals or pages and shows it as bars with drop-offs. */
function FunnelTab(props: {
  stats: SiteStats;
  period: string;
  filters: readonly Filter[];
  goals: readonly string[];
  onProblem: (p: string | null) => void;
}) {
  const [steps, setSteps] = useState<string[]>(() => props.goals.slice(0, 2));
  const [within, setWithin] = useState('visit');
  const [answer, setAnswer] = useState<FunnelAnswer | null>(null);
  const asStep = (s: string): FunnelStep => (props.goals.includes(s) ? { goal: s } : { page: s });
  const run = (event: Event) => {
    event.preventDefault();
    props.stats
      .funnel({
        steps: steps.filter((s) => s).map(asStep),
        within,
        dateRange: props.period,
        filters: props.filters,
      })
      .then((a) => {
        props.onProblem(null);
        setAnswer(a);
      })
      .catch((err: Error) => props.onProblem(err.message));
  };
  const max = Math.max(1, answer?.steps[0]?.visitors ?? 1);
  return (
    <section class="panel" data-testid="funnel">
      <form class="funnel-form" onSubmit={run}>
        {steps.map((s, i) => (
          <label key={i}>
            Step {i + 1}
            <input
              class="input"
              list="funnel-goals"
              data-testid={`funnel-step-${i}`}
              placeholder="A goal, or a page such as /pricing"
              value={s}
              onInput={(e) =>
                setSteps((list) => list.map((x, k) => (k === i ? (e.target as HTMLInputElement).value : x)))
              }
            />
          </label>
        ))}
        <datalist id="funnel-goals">
          {props.goals.map((g) => (
            <option key={g} value={g} />
          ))}
        </datalist>
        {steps.length < 8 && (
          <button
            type="button"
            class="button button--small"
            data-testid="funnel-add"
            onClick={() => setSteps([...steps, ''])}
          >
            Add step
          </button>
        )}
        <select
          aria-label="Within"
          data-testid="funnel-within"
          value={within}
          onChange={(e) => setWithin((e.target as HTMLSelectElement).value)}
        >
          <option value="visit">within a visit</option>
          <option value="1d">within a day</option>
          <option value="7d">within 7 days</option>
          <option value="30d">within 30 days</option>
        </select>
        <button type="submit" class="button button--primary" data-testid="funnel-run">
          Show funnel
        </button>
      </form>
      {answer && (
        <>
          <SampleNote sample={answer.meta.sample} />
          <ol class="funnel-steps">
            {answer.steps.map((s, i) => (
              <li key={i} data-testid="funnel-result">
                <div class="funnel-bar" style={{ '--share': `${(s.visitors / max) * 100}%` }}>
                  <strong>{s.label}</strong>
                  <span data-testid="funnel-visitors">{compact(s.visitors)} visitors</span>
                  <span>{s.conversionRate}%</span>
                </div>
                <div class="funnel-meta">
                  {i > 0 && (
                    <span data-testid="funnel-dropoff">
                      {compact(s.dropoff)} dropped off ({s.dropoffRate}%)
                    </span>
                  )}
                  {s.medianSecondsToNext !== null && (
                    <span>median {duration(s.medianSecondsToNext)} to the next step</span>
                  )}
                </div>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}

/** Paths into and out of a page: tables and a flow diagram. */
function JourneyTab(props: {
  stats: SiteStats;
  period: string;
  filters: readonly Filter[];
  onProblem: (p: string | null) => void;
}) {
  const [page, setPage] = useState('/');
  const [depth, setDepth] = useState(3);
  const [answer, setAnswer] = useState<JourneyAnswer | null>(null);
  const run = (event: Event) => {
    event.preventDefault();
    props.stats
      .journeys({ page, depth, dateRange: props.period, filters: props.filters })
      .then((a) => {
        props.onProblem(null);
        setAnswer(a);
      })
      .catch((err: Error) => props.onProblem(err.message));
  };
  return (
    <section class="panel" data-testid="journeys">
      <form class="funnel-form" onSubmit={run}>
        <label>
          Page
          <input
            class="input"
            data-testid="journey-page"
            value={page}
            onInput={(e) => setPage((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Steps
          <select
            data-testid="journey-depth"
            value={depth}
            onChange={(e) => setDepth(Number((e.target as HTMLSelectElement).value))}
          >
            {[1, 2, 3, 4, 5].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="button button--primary" data-testid="journey-run">
          Show journeys
        </button>
      </form>
      {answer && (
        <>
          <SampleNote sample={answer.meta.sample} />
          <p data-testid="journey-visits">
            {compact(answer.visits)} visits viewed {answer.page}
          </p>
          <div class="journey-grid">
            <JourneyPaths
              title={`Before ${answer.page}`}
              direction={answer.previous}
              testId="journey-previous"
              reverse
            />
            <JourneyPaths title={`After ${answer.page}`} direction={answer.next} testId="journey-next" />
          </div>
          <h3>Flow after {answer.page}</h3>
          <Flow origin={answer.page} visits={answer.visits} flow={answer.next.flow} />
        </>
      )}
    </section>
  );
}

function JourneyPaths(props: {
  title: string;
  direction: JourneyDirection;
  testId: string;
  reverse?: boolean;
}) {
  return (
    <div data-testid={props.testId}>
      <h3>{props.title}</h3>
      <table class="table">
        <tbody>
          {props.direction.paths.map((p) => (
            <tr key={p.pages.join('>')} data-testid="journey-path">
              <td>{(props.reverse ? [...p.pages].reverse() : p.pages).join(' → ')}</td>
              <td>{compact(p.visits)}</td>
              <td>{p.share}%</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The flow as an SVG: a column per step, node heights by visits, links as bands between them. */
function Flow(props: { origin: string; visits: number; flow: JourneyDirection['flow'] }) {
  const colWidth = 180;
  const height = 260;
  const columns = [[{ page: props.origin, visits: props.visits }], ...props.flow.columns];
  const scale = (height - 20 * 8) / Math.max(1, props.visits);
  const place = columns.map((column) => {
    let y = 0;
    return new Map(
      column.map((n) => {
        const h = Math.max(4, n.visits * scale);
        const at = { y, h };
        y += h + 20;
        return [n.page, at];
      }),
    );
  });
  return (
    <svg
      class="flow"
      data-testid="journey-flow"
      width={columns.length * colWidth}
      height={height}
      role="img"
      aria-label="Journey flow"
    >
      {props.flow.links.map((l) => {
        const from = place[l.depth - 1]?.get(l.from);
        const to = place[l.depth]?.get(l.to);
        if (!from || !to) return null;
        const x1 = (l.depth - 1) * colWidth + 12;
        const x2 = l.depth * colWidth;
        const w = Math.max(2, l.visits * scale);
        const y1 = from.y + from.h / 2;
        const y2 = to.y + to.h / 2;
        return (
          <path
            key={`${l.depth}${l.from}${l.to}`}
            class="flow-link"
            d={`M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`}
            stroke-width={w}
          />
        );
      })}
      {columns.map((column, d) =>
        column.map((n) => {
          const at = place[d]!.get(n.page)!;
          return (
            <g key={`${d}${n.page}`} data-testid="flow-node">
              <rect class="flow-node" x={d * colWidth} y={at.y} width={12} height={at.h} />
              <text x={d * colWidth + 16} y={at.y + at.h / 2 + 4}>
                {n.page} ({compact(n.visits)})
              </text>
            </g>
          );
        }),
      )}
    </svg>
  );
}

/** Cohorts by first-seen day or week, and the share of each seen again later. */
function RetentionTab(props: {
  stats: SiteStats;
  filters: readonly Filter[];
  saltRotation: string;
  onProblem: (p: string | null) => void;
}) {
  const [period, setPeriod] = useState('week');
  const [answer, setAnswer] = useState<RetentionAnswer | null>(null);
  useEffect(() => {
    props.stats
      .retention({ period, dateRange: period === 'day' ? '30d' : '90d', filters: props.filters })
      .then((a) => {
        props.onProblem(null);
        setAnswer(a);
      })
      .catch((err: Error) => props.onProblem(err.message));
  }, [props.stats, period, props.filters]);
  return (
    <section class="panel" data-testid="retention">
      <div class="toolbar">
        <select
          aria-label="Cohort period"
          data-testid="retention-period"
          value={period}
          onChange={(e) => setPeriod((e.target as HTMLSelectElement).value)}
        >
          <option value="day">Daily cohorts (30 days)</option>
          <option value="week">Weekly cohorts (90 days)</option>
        </select>
      </div>
      {props.saltRotation === 'daily' && (
        <p class="notice notice--warn" data-testid="retention-daily-note">
          <span>
            This site's visitor ids change every day (the most private setting), so nobody can be seen
            returning on a later day. Choose monthly ids in the site's settings to measure retention within a
            month.
          </span>
        </p>
      )}
      {answer && (
        <>
          <SampleNote sample={answer.meta.sample} />
          <table class="table retention">
            <thead>
              <tr>
                <th>Cohort</th>
                <th>Visitors</th>
                {answer.cohorts[0]?.shares.map((_, i) => (
                  <th key={i}>{i === 0 ? 'First' : `+${i}`}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {answer.cohorts.map((c) => (
                <tr key={c.start} data-testid="retention-row">
                  <td>{c.start}</td>
                  <td>{compact(c.visitors)}</td>
                  {c.shares.map((s, i) => (
                    <td key={i} class="retention-cell" style={{ '--share': `${s}%` }}>
                      {s}%
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
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

function TopList(props: {
  title: string;
  metric: string;
  rows: readonly StatsRow[];
  testId: string;
  onPick: (value: string) => void;
}) {
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
              <button
                type="button"
                class="top-label"
                title="Filter by this"
                onClick={() => props.onPick(r.dimensions[0]!)}
              >
                {r.dimensions[0]}
              </button>
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
