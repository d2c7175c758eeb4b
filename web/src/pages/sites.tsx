import { useEffect, useRef, useState } from 'preact/hooks';
import { AnalyticsApi, snippet, type Site } from '../analytics-api.ts';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.ts';

/** `/sites`: create analytics sites and copy the snippet that tracks them. */
export function SitesPage({ session }: PageProps) {
  const api = useRef(new AnalyticsApi(session.token)).current;
  const [sites, setSites] = useState<Site[]>([]);
  const [domain, setDomain] = useState('');
  const [timezone, setTimezone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [respectDnt, setRespectDnt] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => {
    api.sites().then(setSites, (err: Error) => setProblem(err.message));
  }, [api]);

  const create = (event: Event) => {
    event.preventDefault();
    api.createSite({ domain, timezone, respectDnt }).then(
      (site) => {
        setSites((list) => [...list, site]);
        setDomain('');
        setProblem(null);
      },
      (err: Error) => setProblem(err.message),
    );
  };

  const copy = (site: Site) => {
    void navigator.clipboard?.writeText(snippet(location.origin, site.id)).then(() => setCopied(site.id));
  };

  return (
    <section class="page sites">
      <header class="toolbar">
        <h1>Sites</h1>
      </header>
      <form class="site-form" onSubmit={create}>
        <label>
          Domain
          <input
            data-testid="site-domain"
            required
            placeholder="example.com"
            value={domain}
            onInput={(e) => setDomain((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Time zone
          <input
            data-testid="site-timezone"
            value={timezone}
            onInput={(e) => setTimezone((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="site-check">
          <input
            type="checkbox"
            checked={respectDnt}
            onChange={(e) => setRespectDnt((e.target as HTMLInputElement).checked)}
          />
          Respect Do Not Track and Global Privacy Control
        </label>
        <button type="submit" class="button button--primary" data-testid="site-create">
          Add site
        </button>
      </form>
      {problem && (
        <div class="notice notice--error" role="alert" data-testid="sites-problem">
          <span>{problem}</span>
        </div>
      )}
      <ul class="site-list">
        {sites.map((site) => (
          <li key={site.id} data-testid="site-row" data-id={site.id}>
            <div class="site-head">
              <strong>{site.domain}</strong>{' '}
              <span class="site-meta">
                {site.id} · {site.timezone}
              </span>
              <Link href={`/analytics?site=${site.id}`}>Dashboard</Link>
            </div>
            <pre class="snippet" data-testid="site-snippet">
              {snippet(location.origin, site.id)}
            </pre>
            <button type="button" class="button button--small" onClick={() => copy(site)}>
              {copied === site.id ? 'Copied' : 'Copy snippet'}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
