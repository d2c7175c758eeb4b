import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AnalyticsApi, type Filter, type Goal, type Segment, type Site } from '../analytics-api.ts';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { LiveStream } from '../stream.ts';
import { SiteDashboard } from './site-dashboard.tsx';
import { SiteSettings } from './site-settings.tsx';

function siteFromUrl(): string | null {
  return new URLSearchParams(location.search).get('site');
}

/**
 * `/analytics?site=ID`: one site's dashboard, in the spirit of Plausible: overview, funnels, journeys
 * and retention, with the site's settings (goals, segments, shared links, reports, imports) beside.
 */
export function AnalyticsPage({ session }: PageProps) {
  const api = useRef(new AnalyticsApi(session.token)).current;
  const [sites, setSites] = useState<Site[] | null>(null);
  const [siteId, setSiteId] = useState<string | null>(siteFromUrl);
  const [goals, setGoals] = useState<Goal[]>([]);
  const [segments, setSegments] = useState<Segment[]>([]);
  const [live, setLive] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const stats = useMemo(() => (siteId ? api.stats(siteId) : null), [api, siteId]);
  const site = sites?.find((s) => s.id === siteId);

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

  /** Reads the site's goals and segments again (after a change in its settings). */
  const reload = useCallback(() => {
    if (!siteId) return;
    Promise.all([api.list<Goal>(siteId, 'goals'), api.list<Segment>(siteId, 'segments')])
      .then(([g, s]) => {
        setGoals(g);
        setSegments(s);
      })
      .catch((err: Error) => setProblem(err.message));
  }, [api, siteId]);
  useEffect(reload, [reload]);

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

  const saveSegment = async (name: string, filters: readonly Filter[]) => {
    await api.make(siteId!, 'segments', { name, filters });
    reload();
  };

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
      </header>
      {problem && (
        <div class="notice notice--error" role="alert" data-testid="analytics-problem">
          <span>{problem}</span>
        </div>
      )}
      {stats && site && (
        <SiteDashboard
          key={site.id}
          stats={stats}
          goals={goals.map((g) => g.name)}
          segments={segments}
          saltRotation={site.saltRotation}
          saveSegment={saveSegment}
          toolbar={
            <dl class="stats">
              <div>
                <dt>Visitors now (5 min)</dt>
                <dd data-testid="analytics-live">{live ?? '–'}</dd>
              </div>
            </dl>
          }
          extraTabs={[
            {
              id: 'settings',
              label: 'Settings',
              render: () => (
                <SiteSettings
                  api={api}
                  site={site}
                  goals={goals}
                  segments={segments}
                  onChanged={reload}
                  onSite={(next) =>
                    setSites((list) => list?.map((s) => (s.id === next.id ? next : s)) ?? null)
                  }
                />
              ),
            },
          ]}
        />
      )}
    </section>
  );
}
