import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import '../uptime.css';
import { isAbort } from '../api.ts';
import { formatDateTime } from '../format.ts';
import type { PageProps } from '../routes.ts';
import { LiveStream, type RecordFrame } from '../stream.ts';
import { AlertsApi, type DeliveryView, type MaintenanceView } from '../alerts-api.ts';
import {
  addressOf,
  getTarget,
  listChecks,
  listIncidents,
  stateOf,
  type CheckView,
  type IncidentView,
  type TargetView,
} from '../uptime-api.ts';
import { BadgesPanel } from './badges.tsx';
import { WindowTable } from './settings.tsx';
import { StatePill, TargetList } from './uptime-targets.tsx';

const HISTORY = 200;

/** The target chosen by `?target=`, kept in the URL so a target page can be linked and reloaded. */
function useSelectedTarget(): [string | null, (id: string | null) => void] {
  const read = () => new URLSearchParams(location.search).get('target');
  const [id, setId] = useState(read);
  useEffect(() => {
    const update = () => setId(read());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  const select = (next: string | null) => {
    history.pushState(null, '', next === null ? '/uptime' : `/uptime?target=${encodeURIComponent(next)}`);
    setId(next);
  };
  return [id, select];
}

/** A check record's body carries epoch-ms times; the API's views carry ISO strings. */
function checkFromRecord(frame: RecordFrame): CheckView {
  const body = frame.body as CheckView & { scheduledAt: number | string; startedAt: number | string };
  const iso = (t: number | string) => (typeof t === 'number' ? new Date(t).toISOString() : t);
  return { ...body, scheduledAt: iso(body.scheduledAt), startedAt: iso(body.startedAt) };
}

/** Subscribes to check records while mounted; each frame goes to `onCheck`. */
function useLiveChecks(token: string, onCheck: (check: CheckView) => void): void {
  const handler = useRef(onCheck);
  handler.current = onCheck;
  useEffect(() => {
    const stream = new LiveStream(
      { token, streams: ['checks'] },
      {
        status: () => undefined,
        opened: () => undefined,
        failed: () => undefined,
        dropped: () => undefined,
        rejected: () => undefined,
        record: (frame: RecordFrame) => {
          // Incident changes ride the checks stream too; the pages re-read incidents on each check.
          const kind = (frame.body as { type?: unknown } | null)?.type;
          if (typeof kind === 'string' && kind.startsWith('incident.')) return;
          handler.current(checkFromRecord(frame));
        },
      },
    );
    stream.start();
    return () => stream.close();
  }, [token]);
}

/** `/uptime`: every target with its state, a response-time sparkline and uptime; or one target's page. */
export function UptimePage(props: PageProps) {
  const [selected, select] = useSelectedTarget();
  return selected === null ? (
    <TargetListPage {...props} select={select} />
  ) : (
    <TargetPage {...props} id={selected} back={() => select(null)} />
  );
}

const pct = (n: number | null) => (n === null ? '–' : `${n.toFixed(n === 100 ? 0 : 2)}%`);

/** The list, fed by the page's one live stream (the list applies what it collects once a second). */
function TargetListPage(props: PageProps & { select: (id: string) => void }) {
  const handler = useRef<((check: CheckView) => void) | null>(null);
  useLiveChecks(props.session.token, (check) => handler.current?.(check));
  return <TargetList {...props} onLiveCheck={(h) => (handler.current = h)} />;
}

const two = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Time-axis labels: the clock time at every tick, and the date under it only where the day changes
 * (and at the first tick), so no label is wider than the space uPlot keeps between ticks.
 */
export function timeAxisValues(_u: uPlot, splits: number[]): string[] {
  let day = '';
  return splits.map((s) => {
    const d = new Date(s * 1000);
    const time = `${two(d.getHours())}:${two(d.getMinutes())}${d.getSeconds() ? `:${two(d.getSeconds())}` : ''}`;
    const date = `${MONTHS[d.getMonth()]} ${d.getDate()}`;
    const label = date === day ? time : `${time}\n${date}`;
    day = date;
    return label;
  });
}

const PHASES = [
  ['transferMs', 'transfer', '#9b59b6'],
  ['ttfbMs', 'TTFB', '#2f6fed'],
  ['tlsMs', 'TLS', '#12a150'],
  ['connectMs', 'connect', '#c47f00'],
  ['dnsMs', 'DNS', '#d92d20'],
] as const;

/** Stacked phases: each series is the sum of its phase and the ones below it, filled to zero. */
function PhaseChart({ checks }: { checks: readonly CheckView[] }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!el.current) return;
    chart.current = new uPlot(
      {
        width: Math.max(320, el.current.clientWidth || 800),
        height: 240,
        scales: { x: { time: true } },
        // Short labels and room for them: uPlot's default puts a full date in the first label, wider
        // than the space between ticks, so neighbours overlapped ("12/3/26 4:29pm4:30pm").
        axes: [{ space: 70, size: 44, values: timeAxisValues }, { label: 'ms' }],
        series: [
          {},
          ...PHASES.map(([, label, color]) => ({
            label,
            stroke: color,
            fill: `${color}55`,
            width: 1,
            points: { show: false },
          })),
        ],
      },
      [[], [], [], [], [], []],
      el.current,
    );
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    const ordered = [...checks].reverse();
    const xs = ordered.map((c) => Date.parse(c.scheduledAt) / 1000);
    const stacks = PHASES.map((_, i) =>
      ordered.map((c) => PHASES.slice(i).reduce((sum, [key]) => sum + c.phases[key], 0)),
    );
    chart.current?.setData([xs, ...stacks]);
  }, [checks]);
  return <div class="phase-chart" ref={el} data-testid="phase-chart" data-points={checks.length} />;
}

/** What a target checks and how it is judged, by kind. */
function KindFacts({ target }: { target: TargetView }) {
  const facts: [string, string][] = [
    ['Kind', target.kind],
    ['Checks', addressOf(target)],
    ['Every', `${target.intervalSeconds} s`],
  ];
  if (target.kind === 'dns' && target.expect?.length) facts.push(['Expects', target.expect.join(', ')]);
  if (target.kind === 'push') facts.push(['Grace', `${target.graceSeconds ?? 0} s`]);
  if (target.degradedAboveMs !== undefined) facts.push(['Degraded above', `${target.degradedAboveMs} ms`]);
  if (target.tags.length > 0) facts.push(['Tags', target.tags.join(', ')]);
  return (
    <>
      <dl class="kind-facts" data-testid="target-kind">
        {facts.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd data-fact={k}>{v}</dd>
          </>
        ))}
      </dl>
      {target.assertions && target.assertions.length > 0 && (
        <ul data-testid="target-assertions">
          {target.assertions.map((a, i) => (
            <li key={i} data-testid="assertion">
              {a.type === 'json' ? a.path : a.type === 'header' ? `header ${a.name ?? ''}` : 'response time'}{' '}
              {a.op}
              {a.value === undefined ? '' : ` ${JSON.stringify(a.value)}`}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** What was told about the target, to which channel, when, and what the service answered. */
function Deliveries({ deliveries }: { deliveries: readonly DeliveryView[] }) {
  if (deliveries.length === 0)
    return (
      <p class="uptime-muted" data-testid="deliveries-empty">
        Nothing sent yet. Alert rules decide what is told, on the Alerts page.
      </p>
    );
  return (
    <table class="uptime-table" data-testid="deliveries">
      <thead>
        <tr>
          <th>Queued</th>
          <th>Channel</th>
          <th>What</th>
          <th>State</th>
          <th>Answer</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.map((d) => (
          <tr key={d.id} data-testid="delivery-row" data-state={d.state}>
            <td>{formatDateTime(Date.parse(d.queuedAt))}</td>
            <td>{d.channel}</td>
            <td title={d.title}>{d.event}</td>
            <td>
              {d.state}
              {d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}
              {d.batchSize && d.batchSize > 1 ? ` (with ${d.batchSize - 1} more)` : ''}
            </td>
            <td class="uptime-url">
              {d.status ?? ''} {d.answer ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TargetPage({ session, id, back }: PageProps & { id: string; back: () => void }) {
  const alerts = useRef(new AlertsApi(session.token)).current;
  const [target, setTarget] = useState<TargetView | null>(null);
  const [checks, setChecks] = useState<CheckView[]>([]);
  const [incidents, setIncidents] = useState<IncidentView[]>([]);
  const [deliveries, setDeliveries] = useState<DeliveryView[]>([]);
  const [windows, setWindows] = useState<MaintenanceView[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    Promise.all([
      getTarget(session.api, id, abort.signal),
      listChecks(session.api, id, HISTORY, abort.signal),
      listIncidents(session.api, id, abort.signal),
      alerts.targetDeliveries(id, abort.signal),
      alerts.targetWindows(id, abort.signal),
    ])
      .then(([t, c, i, d, w]) => {
        setTarget(t);
        setChecks(c);
        setIncidents(i);
        setDeliveries(d);
        setWindows(w);
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) setError((err as Error).message);
      });
    return () => abort.abort();
  }, [session, id]);

  useLiveChecks(session.token, (check) => {
    if (check.target !== id) return;
    setChecks((list) =>
      list.some((c) => c.scheduledAt === check.scheduledAt && c.region === check.region)
        ? list
        : [check, ...list].slice(0, HISTORY),
    );
    setTarget((t) => (t ? { ...t, state: stateOf(check), lastCheck: check } : t));
    // Incidents and notifications move only when checks do: re-read them as each check arrives.
    listIncidents(session.api, id).then(setIncidents, () => undefined);
    alerts.targetDeliveries(id).then(setDeliveries, () => undefined);
  });

  return (
    <section class="page uptime">
      <header class="toolbar">
        <button type="button" class="button button--small" onClick={back}>
          ← All targets
        </button>
        <h1 data-testid="target-title">{target?.name ?? id}</h1>
        {target && <StatePill state={target.state} />}
        {target && <span class="uptime-url">{addressOf(target)}</span>}
        {target && (
          <dl class="stats">
            <div>
              <dt>24 h</dt>
              <dd>{pct(target.uptime.h24)}</dd>
            </div>
            <div>
              <dt>7 d</dt>
              <dd>{pct(target.uptime.d7)}</dd>
            </div>
            <div>
              <dt>30 d</dt>
              <dd>{pct(target.uptime.d30)}</dd>
            </div>
          </dl>
        )}
      </header>
      {error && <div class="notice notice--error">{error}</div>}
      {target && <KindFacts target={target} />}
      <h2 class="uptime-h2">Response time by phase</h2>
      <PhaseChart checks={checks} />
      <h2 class="uptime-h2">Status history</h2>
      <div class="status-strip" data-testid="status-history">
        {[...checks].reverse().map((c) => (
          <span
            key={`${c.scheduledAt}/${c.region}`}
            class={`status-cell status-cell--${stateOf(c)}`}
            data-state={stateOf(c)}
            title={`${formatDateTime(Date.parse(c.scheduledAt))} · ${c.region} · ${stateOf(c)} · ${c.ok ? `${c.status ?? ''} in ${Math.round(c.durationMs)} ms` : `${c.error?.class ?? 'down'}: ${c.error?.detail ?? ''}`}`}
          />
        ))}
      </div>
      <h2 class="uptime-h2">Incidents</h2>
      {incidents.length === 0 ? (
        <p class="uptime-muted" data-testid="incidents-empty">
          No incidents.
        </p>
      ) : (
        <table class="uptime-table" data-testid="incidents">
          <thead>
            <tr>
              <th>Began</th>
              <th>Ended</th>
              <th>Region</th>
              <th>Cause</th>
            </tr>
          </thead>
          <tbody>
            {incidents.map((i) => (
              <tr key={`${i.startedAt}/${i.region}`} data-testid="incident-row">
                <td>{formatDateTime(Date.parse(i.startedAt))}</td>
                <td>{i.endedAt ? formatDateTime(Date.parse(i.endedAt)) : 'ongoing'}</td>
                <td>{i.region}</td>
                <td title={i.detail}>{i.cause}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 class="uptime-h2">Notifications</h2>
      <Deliveries deliveries={deliveries} />
      <h2 class="uptime-h2">Maintenance windows</h2>
      <WindowTable windows={windows} />
      <h2 class="uptime-h2">Badges</h2>
      <BadgesPanel target={id} />
    </section>
  );
}
