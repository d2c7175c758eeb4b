import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { isAbort } from '../api.ts';
import type { Session } from '../auth.ts';
import {
  buildTree,
  chartColumns,
  countFrame,
  loadCounts,
  loadSeries,
  loadSpaces,
  localDay,
  type Bucket,
  type Count,
  type Space,
  type SpaceNode,
} from '../occupancy.ts';
import { navigate } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { LiveStream, type StreamStatus } from '../stream.ts';

/** Subscribes to count frames on /v1/stream while mounted. */
function useLiveCounts(session: Session, onCount: (count: Count) => void): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const handler = useRef(onCount);
  handler.current = onCount;
  useEffect(() => {
    const stream = new LiveStream(
      { token: session.token, streams: ['sensor-events'] },
      {
        status: (s) => setStatus(s),
        opened: () => undefined,
        failed: () => undefined,
        record: () => undefined,
        dropped: () => undefined,
        rejected: (reason) => session.signOut(reason),
        other: (frame) => {
          const count = countFrame(frame);
          if (count) handler.current(count);
        },
      },
    );
    stream.start();
    return () => stream.close();
  }, [session]);
  return status;
}

/** Listeners of the query string, which the router (paths only) does not report. */
const searchListeners = new Set<() => void>();

/** Goes to `/occupancy` with a new query string, keeping history. */
function openSearch(search: string): void {
  navigate(`/occupancy${search}`);
  for (const listener of searchListeners) listener();
}

function useSearch(): string {
  const [search, setSearch] = useState(() => location.search);
  useEffect(() => {
    const update = () => setSearch(location.search);
    searchListeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      searchListeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return search;
}

/** A link within the occupancy page: a plain click changes the query string in place. */
function SearchLink(props: { search: string; class?: string; children: ComponentChildren }) {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openSearch(props.search);
  };
  return (
    <a href={`/occupancy${props.search}`} class={props.class} onClick={onClick}>
      {props.children}
    </a>
  );
}

/** `/occupancy`: the space hierarchy with live counts; `/occupancy?space=ID` opens one space's day. */
export function OccupancyPage({ session }: PageProps) {
  const space = new URLSearchParams(useSearch()).get('space');
  return space === null ? (
    <SpaceTree session={session} />
  ) : (
    <SpaceDay key={space} session={session} id={space} />
  );
}

function SpaceTree({ session }: { session: Session }) {
  const [spaces, setSpaces] = useState<Space[] | null>(null);
  const [counts, setCounts] = useState<Map<string, Count>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const status = useLiveCounts(session, (count) => setCounts((old) => new Map(old).set(count.space, count)));

  useEffect(() => {
    const abort = new AbortController();
    Promise.all([loadSpaces(session.api, abort.signal), loadCounts(session.api, abort.signal)])
      .then(([list, loaded]) => {
        setSpaces(list);
        // Frames that arrived while loading are newer than the listing.
        setCounts((live) => new Map([...loaded, ...live]));
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) setError((err as Error).message);
      });
    return () => abort.abort();
  }, [session]);

  return (
    <section class="page">
      <header class="toolbar">
        <h1>Occupancy</h1>
        <span class={`pill pill--${status}`} data-testid="occupancy-status">
          <span class="pill-dot" aria-hidden="true" />
          {status}
        </span>
      </header>
      {error && (
        <div class="notice notice--error" role="alert">
          {error}
        </div>
      )}
      {spaces === null ? null : spaces.length === 0 ? (
        <div class="placeholder" data-testid="occupancy-empty">
          <p class="placeholder-title">No spaces yet</p>
          <p>Create spaces, doorways, sensors and placements with the API (/v1/spaces, …).</p>
        </div>
      ) : (
        <ul class="space-tree" data-testid="space-tree">
          {buildTree(spaces).map((node) => (
            <SpaceItem key={node.space.id} node={node} counts={counts} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SpaceItem({ node, counts }: { node: SpaceNode; counts: ReadonlyMap<string, Count> }) {
  const count = counts.get(node.space.id);
  return (
    <li>
      <div class="space-row" data-testid="space-row" data-space={node.space.id}>
        <SearchLink search={`?space=${encodeURIComponent(node.space.id)}`} class="space-name">
          {node.space.name}
        </SearchLink>
        <span class="space-count" data-testid="space-count" title={count ? `raw ${count.raw}` : undefined}>
          {count ? count.count : '–'}
        </span>
        {count && count.raw !== count.count && <span class="space-raw">raw {count.raw}</span>}
      </div>
      {node.children.length > 0 && (
        <ul>
          {node.children.map((child) => (
            <SpaceItem key={child.space.id} node={child} counts={counts} />
          ))}
        </ul>
      )}
    </li>
  );
}

const DAY_INTERVAL = '5m';
/** Refetch the chart at most this often while counts stream in. */
const REFRESH_MS = 1000;

function SpaceDay({ session, id }: { session: Session; id: string }) {
  const [day, setDay] = useState(() => localDay(new Date()));
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [count, setCount] = useState<Count | null>(null);
  const [error, setError] = useState<string | null>(null);
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
    session.api
      .getJson(`/v1/spaces/${encodeURIComponent(id)}/count`, abort.signal)
      .then((c) => setCount(c as Count))
      .catch((err: unknown) => {
        if (!isAbort(err)) setError((err as Error).message);
      });
    return () => abort.abort();
  }, [session, id]);

  useEffect(() => {
    const abort = new AbortController();
    loadSeries(session.api, id, { ...day, interval: DAY_INTERVAL }, abort.signal)
      .then(setBuckets)
      .catch((err: unknown) => {
        if (!isAbort(err)) setError((err as Error).message);
      });
    return () => abort.abort();
  }, [session, id, day, version]);

  const late = (buckets ?? []).filter((b) => b.lateEvents > 0);
  const dateValue = `${day.from.getFullYear()}-${String(day.from.getMonth() + 1).padStart(2, '0')}-${String(day.from.getDate()).padStart(2, '0')}`;
  return (
    <section class="page">
      <header class="toolbar">
        <h1>
          <SearchLink search="">Occupancy</SearchLink> › {id}
        </h1>
        <span class={`pill pill--${status}`}>
          <span class="pill-dot" aria-hidden="true" />
          {status}
        </span>
        <dl class="stats">
          <div>
            <dt>Now</dt>
            <dd data-testid="space-live-count">{count ? count.count : '–'}</dd>
          </div>
          <div>
            <dt>Raw</dt>
            <dd data-testid="space-live-raw">{count ? count.raw : '–'}</dd>
          </div>
        </dl>
        <div class="toolbar-end">
          <input
            type="date"
            class="input"
            data-testid="space-day"
            value={dateValue}
            onChange={(event) => {
              const [y, m, d] = event.currentTarget.value.split('-').map(Number);
              if (y && m && d) setDay(localDay(new Date(y, m - 1, d)));
            }}
          />
        </div>
      </header>
      {error && (
        <div class="notice notice--error" role="alert">
          {error}
        </div>
      )}
      {buckets && <DayChart buckets={buckets} />}
      {late.length > 0 && (
        <p class="late-note" data-testid="late-markers">
          Late events changed history at{' '}
          {late.map((b, i) => (
            <span key={b.start} data-testid="late-marker">
              {i > 0 && ', '}
              {new Date(b.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} (
              {b.lateEvents})
            </span>
          ))}
          .
        </p>
      )}
    </section>
  );
}

/** Occupancy (corrected and raw) as lines, entries and exits as bars, late-event markers as dashed rules. */
function DayChart({ buckets }: { buckets: readonly Bucket[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = box.current;
    if (!target) return;
    const lateAt = buckets.filter((b) => b.lateEvents > 0).map((b) => Date.parse(b.start) / 1000);
    const style = getComputedStyle(document.documentElement);
    const color = (name: string) => style.getPropertyValue(name).trim() || '#888';
    const bars = uPlot.paths.bars?.({ size: [0.6, 8] });
    const plot = new uPlot(
      {
        width: Math.max(320, target.clientWidth),
        height: 320,
        scales: { x: { time: true } },
        axes: [{}, { label: 'people' }],
        series: [
          {},
          { label: 'Occupancy', stroke: color('--accent'), width: 2 },
          { label: 'Raw', stroke: color('--muted'), dash: [4, 4] },
          {
            label: 'Entries',
            stroke: color('--ok'),
            fill: color('--ok'),
            paths: bars,
            points: { show: false },
          },
          {
            label: 'Exits',
            stroke: color('--bad'),
            fill: color('--bad'),
            paths: bars,
            points: { show: false },
          },
        ],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = color('--warn');
              ctx.setLineDash([3, 3]);
              ctx.lineWidth = 1.5;
              for (const t of lateAt) {
                const x = Math.round(u.valToPos(t, 'x', true));
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
              }
              ctx.restore();
            },
          ],
        },
      },
      chartColumns(buckets),
      target,
    );
    return () => plot.destroy();
  }, [buckets]);
  return <div class="day-chart" data-testid="day-chart" ref={box} />;
}
