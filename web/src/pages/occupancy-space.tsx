import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Session } from '../auth.ts';
import { formatDateTime } from '../format.ts';
import {
  BUCKET_OF,
  chartColumns,
  duration,
  loadSeries,
  localInput,
  occupancy,
  periodOf,
  shiftPeriod,
  type Count,
  type OpenHours,
  type Period,
  type Series,
  type Space,
} from '../occupancy.ts';
import { useChanges, useResource } from '../use-resource.ts';
import { Problem, SearchLink, useLiveCounts } from './occupancy.tsx';

const PERIODS: readonly Period[] = ['day', 'week', 'month'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** Refetch the chart at most this often while counts stream in. */
const REFRESH_MS = 1000;

/**
 * One space's page: its live count, a chart of a day, week or month with its capacity, headcounts
 * and provisional figures, the count at any time, peak, average and time over capacity, CSV export,
 * headcount corrections, settings, moves, the health of its doorways' sensors, alerts and the audit
 * trail.
 */
export function SpaceView({ session, id }: { session: Session; id: string }) {
  const api = session.api;
  const space = useResource((signal) => occupancy.space(api, id, signal), [session, id]);
  const [period, setPeriod] = useState<Period>('day');
  const [date, setDate] = useState(() => new Date());
  const [count, setCount] = useState<Count | null>(null);
  const [version, setVersion] = useState(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const status = useLiveCounts(session, (c) => {
    if (c.space !== id) return;
    setCount(c);
    pending.current ??= setTimeout(() => {
      pending.current = undefined;
      setVersion((v) => v + 1);
    }, REFRESH_MS);
  });
  useEffect(() => () => clearTimeout(pending.current), []);
  useEffect(() => {
    const abort = new AbortController();
    occupancy.count(api, id, abort.signal).then(setCount, () => undefined);
    return () => abort.abort();
  }, [api, id, version]);

  const range = periodOf(period, date);
  const interval = BUCKET_OF[period];
  const series = useResource(
    (signal) => loadSeries(api, id, { ...range, interval }, signal),
    [api, id, period, range.from.getTime(), version],
  );
  const anchors = useResource(
    (signal) => occupancy.anchors(api, id, range.from, range.to, signal),
    [api, id, period, range.from.getTime(), version],
  );
  // After a change: reload what it may have moved.
  const { problem, refused, act } = useChanges(() => {
    setVersion((v) => v + 1);
    space.reload();
  });

  const s = series.value;
  const capacity = space.value?.capacity ?? null;
  return (
    <section class="page occupancy">
      <header class="toolbar">
        <h1 data-testid="space-title">
          <SearchLink search="">Occupancy</SearchLink> › {space.value?.name ?? id}
        </h1>
        <span class={`pill pill--${status}`}>
          <span class="pill-dot" aria-hidden="true" />
          {status}
        </span>
        <dl class="stats">
          <div>
            <dt>Now</dt>
            <dd
              data-testid="space-live-count"
              class={capacity !== null && count && count.count > capacity ? 'over' : ''}
            >
              {count ? count.count : '–'}
            </dd>
          </div>
          <div>
            <dt>Raw</dt>
            <dd data-testid="space-live-raw">{count ? count.raw : '–'}</dd>
          </div>
          <div>
            <dt>Capacity</dt>
            <dd data-testid="space-capacity">{capacity ?? '–'}</dd>
          </div>
        </dl>
      </header>
      <Problem message={space.error ?? series.error ?? problem} />
      <div class="toolbar">
        <div class="segmented" role="group" aria-label="Period">
          {PERIODS.map((p) => (
            <button
              key={p}
              type="button"
              class={p === period ? 'button button--small button--primary' : 'button button--small'}
              data-testid={`space-period-${p}`}
              onClick={() => setPeriod(p)}
            >
              {p[0]!.toUpperCase() + p.slice(1)}
            </button>
          ))}
        </div>
        <button
          type="button"
          class="button button--small"
          data-testid="space-prev"
          onClick={() => setDate(shiftPeriod(period, date, -1))}
        >
          ←
        </button>
        <input
          type="date"
          class="input"
          data-testid="space-date"
          value={localInput(range.from).slice(0, 10)}
          onChange={(event) => {
            const [y, m, d] = event.currentTarget.value.split('-').map(Number);
            if (y && m && d) setDate(new Date(y, m - 1, d));
          }}
        />
        <button
          type="button"
          class="button button--small"
          data-testid="space-next"
          onClick={() => setDate(shiftPeriod(period, date, 1))}
        >
          →
        </button>
        <div class="toolbar-end">
          <button
            type="button"
            class="button button--small"
            data-testid="space-csv"
            onClick={() =>
              void occupancy
                .csv(api, id, { ...range, interval })
                .then(
                  (text) => download(`${id}-${localInput(range.from).slice(0, 10)}-${period}.csv`, text),
                  refused,
                )
            }
          >
            Export CSV
          </button>
        </div>
      </div>
      {s && <Figures series={s} />}
      {s && <SpaceChart series={s} />}
      <CountAt session={session} id={id} />
      <div class="occupancy-panels">
        <Corrections session={session} id={id} anchors={anchors.value ?? []} act={act} />
        {space.value && <Settings session={session} space={space.value} act={act} />}
        {space.value && <Moves session={session} space={space.value} act={act} />}
        <Health session={session} id={id} version={version} />
        <Audit session={session} id={id} version={version} />
      </div>
    </section>
  );
}

/** Saves `text` as a file the browser downloads. */
function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  // Attached, so every browser follows the click.
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Peak, average and time over capacity of the period, with entries and exits. */
function Figures({ series }: { series: Series }) {
  const { summary } = series;
  const provisional = series.buckets.filter((b) => b.provisional).length;
  return (
    <dl class="stats occupancy-figures">
      <div>
        <dt>Peak</dt>
        <dd data-testid="space-peak">{summary.peak.count}</dd>
      </div>
      <div>
        <dt>Average</dt>
        <dd data-testid="space-average">{summary.average.count.toFixed(1)}</dd>
      </div>
      <div>
        <dt>Over capacity</dt>
        <dd data-testid="space-over-capacity">
          {summary.overCapacityMs === null ? '–' : duration(summary.overCapacityMs)}
        </dd>
      </div>
      <div>
        <dt>In / out</dt>
        <dd>
          {summary.entries} / {summary.exits}
        </dd>
      </div>
      {provisional > 0 && (
        <div>
          <dt>Provisional</dt>
          <dd
            class="provisional"
            title="Within the reconciliation window: late events may still change these figures."
          >
            {provisional} of {series.buckets.length} intervals
          </dd>
        </div>
      )}
    </dl>
  );
}

/**
 * Occupancy over the period (final as a solid line, provisional as a dotted one), raw counts dashed,
 * the capacity as a red rule, headcounts as labelled markers and late events as dashed marks.
 */
function SpaceChart({ series }: { series: Series }) {
  const box = useRef<HTMLDivElement>(null);
  const { buckets, capacity, corrections } = series;
  useEffect(() => {
    const target = box.current;
    if (!target) return;
    const style = getComputedStyle(document.documentElement);
    const color = (name: string) => style.getPropertyValue(name).trim() || '#888';
    const lateAt = buckets.filter((b) => b.lateEvents > 0).map((b) => Date.parse(b.start) / 1000);
    const marks = corrections.map((c) => ({ t: Date.parse(c.at) / 1000, label: `= ${c.count}` }));
    const plot = new uPlot(
      {
        width: Math.max(320, target.clientWidth - 16),
        height: 300,
        scales: {
          x: { time: true },
          y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max, (capacity ?? 0) * 1.1, 1)] },
        },
        axes: [{}, { label: 'people' }],
        series: [
          {},
          { label: 'Occupancy', stroke: color('--accent'), width: 2, points: { show: false } },
          { label: 'Raw', stroke: color('--muted'), dash: [4, 4], points: { show: false } },
          { label: 'Capacity', stroke: color('--bad'), dash: [8, 4], width: 1.5, points: { show: false } },
          { label: 'Provisional', stroke: color('--warn'), dash: [2, 3], width: 2, points: { show: false } },
        ],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              ctx.save();
              ctx.lineWidth = 1.5;
              ctx.strokeStyle = color('--warn');
              ctx.setLineDash([3, 3]);
              for (const t of lateAt) rule(u, t);
              ctx.strokeStyle = color('--ok');
              ctx.fillStyle = color('--ok');
              ctx.setLineDash([]);
              ctx.font = '11px system-ui';
              for (const m of marks) {
                const x = rule(u, m.t);
                ctx.fillText(m.label, x + 3, u.bbox.top + 12);
              }
              ctx.restore();
            },
          ],
        },
      },
      chartColumns(buckets, capacity),
      target,
    );
    return () => plot.destroy();
  }, [buckets, capacity, corrections]);
  return (
    <div
      class="day-chart"
      data-testid="space-chart"
      data-points={buckets.length}
      data-capacity={capacity ?? ''}
      data-corrections={corrections.length}
      data-provisional={buckets.filter((b) => b.provisional).length}
      data-late={buckets.filter((b) => b.lateEvents > 0).length}
      ref={box}
    />
  );
}

/** Draws a vertical rule at time `t` (seconds) across the plot; returns its x in canvas pixels. */
function rule(u: uPlot, t: number): number {
  const x = Math.round(u.valToPos(t, 'x', true));
  u.ctx.beginPath();
  u.ctx.moveTo(x, u.bbox.top);
  u.ctx.lineTo(x, u.bbox.top + u.bbox.height);
  u.ctx.stroke();
  return x;
}

/** The count at any instant. */
function CountAt({ session, id }: { session: Session; id: string }) {
  const [at, setAt] = useState(() => localInput(new Date()));
  const [answer, setAnswer] = useState<Count | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <form
      class="occupancy-form"
      onSubmit={(e) => {
        e.preventDefault();
        occupancy.countAt(session.api, id, new Date(at)).then(
          (c) => {
            setAnswer(c);
            setProblem(null);
          },
          (err: Error) => setProblem(err.message),
        );
      }}
    >
      <label>
        Count at
        <input
          class="input"
          type="datetime-local"
          step="1"
          data-testid="space-at-input"
          value={at}
          onInput={(e) => setAt(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="button" data-testid="space-at-submit">
        Count
      </button>
      {answer && (
        <span data-testid="space-at-result" class="occupancy-answer">
          {answer.count} people at {formatDateTime(Date.parse(answer.asOf))} (raw {answer.raw})
        </span>
      )}
      <Problem message={problem} />
    </form>
  );
}

/** Headcounts and daily resets of the period, and the form that records a headcount. */
function Corrections(props: {
  session: Session;
  id: string;
  anchors: readonly {
    kind: 'reset' | 'headcount';
    at: string;
    count: number;
    correction: { id: string; note: string } | null;
  }[];
  act: (action: () => Promise<unknown>) => Promise<void>;
}) {
  const { session, id, act } = props;
  const [at, setAt] = useState(() => localInput(new Date()));
  const [count, setCount] = useState('');
  const [note, setNote] = useState('');
  return (
    <section class="occupancy-panel">
      <h2>Corrections</h2>
      <p class="occupancy-note">
        A headcount sets the count at its time; counts after it follow from it, late events included.
      </p>
      <form
        class="occupancy-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() =>
            occupancy.correct(session.api, id, {
              at: new Date(at).toISOString(),
              count: Number(count),
              note,
            }),
          ).then(() => setCount(''));
        }}
      >
        <input
          class="input"
          type="datetime-local"
          step="1"
          required
          data-testid="correction-at"
          value={at}
          onInput={(e) => setAt(e.currentTarget.value)}
        />
        <input
          class="input input--narrow"
          type="number"
          min="0"
          required
          placeholder="people"
          data-testid="correction-count"
          value={count}
          onInput={(e) => setCount(e.currentTarget.value)}
        />
        <input
          class="input"
          placeholder="note"
          data-testid="correction-note"
          value={note}
          onInput={(e) => setNote(e.currentTarget.value)}
        />
        <button type="submit" class="button button--primary" data-testid="correction-save">
          Record headcount
        </button>
      </form>
      <ul class="occupancy-list">
        {props.anchors.map((a) => (
          <li
            key={`${a.kind}/${a.at}/${a.correction?.id ?? ''}`}
            data-testid="correction-row"
            data-kind={a.kind}
          >
            <span>{formatDateTime(Date.parse(a.at))}</span>
            <span>{a.kind === 'reset' ? 'daily reset to 0' : `headcount: ${a.count}`}</span>
            {a.correction?.note && <span class="occupancy-note">{a.correction.note}</span>}
            {a.correction && (
              <button
                type="button"
                class="button button--small button--quiet"
                data-testid="correction-delete"
                onClick={() => void act(() => occupancy.deleteCorrection(session.api, id, a.correction!.id))}
              >
                Delete
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Capacity, alert delay and open hours. */
function Settings({
  session,
  space,
  act,
}: {
  session: Session;
  space: Space;
  act: (a: () => Promise<unknown>) => Promise<void>;
}) {
  const [capacity, setCapacity] = useState(space.capacity == null ? '' : String(space.capacity));
  const [minutes, setMinutes] = useState(
    space.alertAfterMinutes == null ? '' : String(space.alertAfterMinutes),
  );
  const first: OpenHours | undefined = space.openHours?.[0];
  const [days, setDays] = useState<readonly string[]>(first?.days ?? []);
  const [from, setFrom] = useState(first?.from ?? '08:00');
  const [to, setTo] = useState(first?.to ?? '18:00');
  const toggle = (day: string) =>
    setDays((d) => (d.includes(day) ? d.filter((x) => x !== day) : [...d, day]));
  return (
    <section class="occupancy-panel">
      <h2>Settings</h2>
      <form
        class="occupancy-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() =>
            occupancy.changeSpace(session.api, space.id, {
              capacity: capacity === '' ? null : Number(capacity),
              alertAfterMinutes: minutes === '' ? null : Number(minutes),
              openHours:
                days.length === 0 ? null : [{ days: WEEKDAYS.filter((d) => days.includes(d)), from, to }],
            }),
          );
        }}
      >
        <label>
          Capacity
          <input
            class="input input--narrow"
            type="number"
            min="0"
            data-testid="settings-capacity"
            value={capacity}
            onInput={(e) => setCapacity(e.currentTarget.value)}
          />
        </label>
        <label>
          Alert after (min)
          <input
            class="input input--narrow"
            type="number"
            min="1"
            placeholder="default"
            data-testid="settings-alert-minutes"
            value={minutes}
            onInput={(e) => setMinutes(e.currentTarget.value)}
          />
        </label>
        <fieldset class="occupancy-days">
          <legend>Open</legend>
          {WEEKDAYS.map((d) => (
            <label key={d}>
              <input
                type="checkbox"
                data-testid={`settings-day-${d}`}
                checked={days.includes(d)}
                onChange={() => toggle(d)}
              />
              {d}
            </label>
          ))}
          <input
            class="input"
            type="time"
            data-testid="settings-open-from"
            value={from}
            onInput={(e) => setFrom(e.currentTarget.value)}
          />
          –
          <input
            class="input"
            type="time"
            data-testid="settings-open-to"
            value={to}
            onInput={(e) => setTo(e.currentTarget.value)}
          />
        </fieldset>
        <button type="submit" class="button button--primary" data-testid="settings-save">
          Save
        </button>
      </form>
      <p class="occupancy-note">No open days: always open, or as its parent space.</p>
    </section>
  );
}

/** Every parent the space has had, and taking a move back. */
function Moves({
  session,
  space,
  act,
}: {
  session: Session;
  space: Space;
  act: (a: () => Promise<unknown>) => Promise<void>;
}) {
  const parents = space.parents ?? [];
  return (
    <section class="occupancy-panel">
      <h2>Inside</h2>
      <ul class="occupancy-list" data-testid="space-parents">
        {parents.map((p) => (
          <li key={p.from ?? 'created'} data-testid="space-parent-row">
            <span>{p.parent ?? '(top level)'}</span>
            <span class="occupancy-note">
              {p.from === null ? 'since created' : `from ${formatDateTime(Date.parse(p.from))}`}
              {p.to !== null && ` until ${formatDateTime(Date.parse(p.to))}`}
            </span>
            {p.from !== null && (
              <button
                type="button"
                class="button button--small button--quiet"
                data-testid="space-move-undo"
                onClick={() => void act(() => occupancy.undoMove(session.api, space.id, p.from!))}
              >
                Take back
              </button>
            )}
          </li>
        ))}
      </ul>
      <p class="occupancy-note">Move a space from the space tree.</p>
    </section>
  );
}

/** The sensors on the space's doorways and each doorway's daily in and out. */
function Health({ session, id, version }: { session: Session; id: string; version: number }) {
  const health = useResource(
    (signal) => occupancy.spaceHealth(session.api, id, signal),
    [session, id, version],
  );
  const alerts = useResource((signal) => occupancy.alerts(session.api, id, signal), [session, id, version]);
  const h = health.value;
  return (
    <section class="occupancy-panel">
      <h2>Sensor health</h2>
      <Problem message={health.error} />
      <ul class="occupancy-list">
        {h?.sensors.map((s) => (
          <li key={s.sensor} data-testid="health-sensor" data-status={s.status}>
            <span class={`pill health--${s.status}`}>
              <span class="pill-dot" aria-hidden="true" />
              {s.status}
            </span>
            <span>{s.name}</span>
            <span class="occupancy-note">
              {s.lastEventAt ? `last event ${formatDateTime(Date.parse(s.lastEventAt))}` : 'no events yet'}
            </span>
          </li>
        ))}
      </ul>
      {h && h.doorways.length > 0 && (
        <table class="uptime-table drift-table">
          <thead>
            <tr>
              <th>Doorway</th>
              {h.doorways[0]!.days.map((d) => (
                <th key={d.day}>{d.day.slice(5)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {h.doorways.map((d) => (
              <tr key={d.doorway}>
                <td>{d.name}</td>
                {d.days.map((day) => (
                  <td
                    key={day.day}
                    class={day.flagged ? 'num drift--flagged' : 'num'}
                    data-testid="drift-day"
                    data-flagged={day.flagged}
                  >
                    {day.in}/{day.out}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {alerts.value && alerts.value.length > 0 && (
        <ul class="occupancy-list">
          {alerts.value.map((a) => (
            <li key={a.id} data-testid="space-alert" data-kind={a.kind}>
              <span>{a.kind}</span>
              <span>{formatDateTime(Date.parse(a.openedAt))}</span>
              <span class="occupancy-note">
                {a.closedAt ? `closed ${formatDateTime(Date.parse(a.closedAt))}` : 'open'}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Who corrected, moved or changed the space, and when. */
function Audit({ session, id, version }: { session: Session; id: string; version: number }) {
  const audit = useResource((signal) => occupancy.audit(session.api, id, signal), [session, id, version]);
  return (
    <section class="occupancy-panel">
      <h2>Audit trail</h2>
      <ul class="occupancy-list">
        {audit.value?.map((a) => (
          <li key={a.id} data-testid="audit-row" data-action={a.action}>
            <span>{formatDateTime(Date.parse(a.at))}</span>
            <span>{a.action}</span>
            <span class="occupancy-note">
              by token {a.actor}
              {typeof a.detail.count === 'number' && ` · count ${a.detail.count}`}
              {typeof a.detail.at === 'string' && ` · at ${formatDateTime(Date.parse(a.detail.at))}`}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
