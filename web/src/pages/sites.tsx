import { useEffect, useRef, useState } from 'preact/hooks';
import { AnalyticsApi, snippet, type Site } from '../analytics-api.ts';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.ts';

/** `/sites`: create analytics sites, copy the snippet that tracks them, change or delete them. */
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
          <SiteRow
            key={site.id}
            site={site}
            api={api}
            copied={copied === site.id}
            onCopy={() => copy(site)}
            onChange={(next) => setSites((list) => list.map((s) => (s.id === next.id ? next : s)))}
            onDelete={() => setSites((list) => list.filter((s) => s.id !== site.id))}
          />
        ))}
      </ul>
    </section>
  );
}

/** Comma- or whitespace-separated domains as typed into one field. */
const domainList = (text: string) => text.split(/[\s,]+/).filter((d) => d !== '');

/** One site: its snippet, and its settings to change or the site to delete (asked twice). */
function SiteRow(props: {
  site: Site;
  api: AnalyticsApi;
  copied: boolean;
  onCopy: () => void;
  onChange: (site: Site) => void;
  onDelete: () => void;
}) {
  const { site, api } = props;
  const [mode, setMode] = useState<'view' | 'edit' | 'delete'>('view');
  const [domain, setDomain] = useState(site.domain);
  const [allowed, setAllowed] = useState(site.allowedDomains.join(', '));
  const [timezone, setTimezone] = useState(site.timezone);
  const [respectDnt, setRespectDnt] = useState(site.respectDnt);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const edit = () => {
    setDomain(site.domain);
    setAllowed(site.allowedDomains.join(', '));
    setTimezone(site.timezone);
    setRespectDnt(site.respectDnt);
    setProblem(null);
    setMode('edit');
  };
  const save = (event: Event) => {
    event.preventDefault();
    setBusy(true);
    api
      .updateSite(site.id, { domain, allowedDomains: domainList(allowed), timezone, respectDnt })
      .then(
        (next) => {
          props.onChange(next);
          setMode('view');
          setProblem(null);
        },
        (err: Error) => setProblem(err.message),
      )
      .finally(() => setBusy(false));
  };
  const remove = () => {
    setBusy(true);
    api
      .deleteSite(site.id)
      .then(props.onDelete, (err: Error) => setProblem(err.message))
      .finally(() => setBusy(false));
  };

  return (
    <li data-testid="site-row" data-id={site.id}>
      <div class="site-head">
        <strong>{site.domain}</strong>{' '}
        <span class="site-meta">
          {site.id} · {site.timezone}
          {site.allowedDomains.length > 0 && ` · also ${site.allowedDomains.join(', ')}`}
          {site.respectDnt && ' · respects DNT/GPC'}
        </span>
        <Link href={`/analytics?site=${site.id}`}>Dashboard</Link>
      </div>
      <pre class="snippet" data-testid="site-snippet">
        {snippet(location.origin, site.id)}
      </pre>
      {mode === 'edit' && (
        <form class="site-form" data-testid="site-edit-form" onSubmit={save}>
          <label>
            Domain
            <input
              data-testid="site-edit-domain"
              required
              value={domain}
              onInput={(e) => setDomain((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Also allowed (comma-separated)
            <input
              data-testid="site-edit-allowed"
              placeholder="cdn.example.com"
              value={allowed}
              onInput={(e) => setAllowed((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Time zone
            <input
              data-testid="site-edit-timezone"
              value={timezone}
              onInput={(e) => setTimezone((e.target as HTMLInputElement).value)}
            />
          </label>
          <label class="site-check">
            <input
              type="checkbox"
              data-testid="site-edit-dnt"
              checked={respectDnt}
              onChange={(e) => setRespectDnt((e.target as HTMLInputElement).checked)}
            />
            Respect Do Not Track and Global Privacy Control
          </label>
          <button type="submit" class="button button--primary" disabled={busy} data-testid="site-save">
            Save
          </button>
          <button type="button" class="button button--quiet" onClick={() => setMode('view')}>
            Cancel
          </button>
          {timezone !== site.timezone && (
            <p class="site-note">
              Days already counted stay in {site.timezone} until they are reprocessed (
              <code>beacon reprocess</code>).
            </p>
          )}
        </form>
      )}
      {mode === 'delete' && (
        <div class="notice notice--error site-confirm" role="alertdialog" data-testid="site-delete-confirm">
          <span>
            Delete {site.domain}? Collection stops at once, and its page views, visits and rollups are deleted
            for good.
          </span>
          <button
            type="button"
            class="button button--small"
            disabled={busy}
            data-testid="site-delete-confirmed"
            onClick={remove}
          >
            Delete site and data
          </button>
          <button type="button" class="button button--small button--quiet" onClick={() => setMode('view')}>
            Keep it
          </button>
        </div>
      )}
      {problem && (
        <div class="notice notice--error" role="alert" data-testid="site-row-problem">
          <span>{problem}</span>
        </div>
      )}
      {mode === 'view' && (
        <div class="site-actions">
          <button type="button" class="button button--small" onClick={props.onCopy}>
            {props.copied ? 'Copied' : 'Copy snippet'}
          </button>
          <button type="button" class="button button--small" data-testid="site-edit" onClick={edit}>
            Edit
          </button>
          <button
            type="button"
            class="button button--small button--quiet"
            data-testid="site-delete"
            onClick={() => {
              setProblem(null);
              setMode('delete');
            }}
          >
            Delete
          </button>
        </div>
      )}
    </li>
  );
}
