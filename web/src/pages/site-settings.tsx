import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type {
  AnalyticsApi,
  Goal,
  Import,
  Report,
  ReportMail,
  Segment,
  SharedLink,
  Site,
} from '../analytics-api.ts';

/** What the settings of one site work with. */
interface SettingsProps {
  readonly api: AnalyticsApi;
  readonly site: Site;
  readonly goals: readonly Goal[];
  readonly segments: readonly Segment[];
  /** Goals or segments changed: read them again. */
  readonly onChanged: () => void;
  /** The site's own settings changed. */
  readonly onSite: (site: Site) => void;
}

/** A site's settings tab: privacy and currency, goals, segments, shared links, reports, imports. */
export function SiteSettings(props: SettingsProps) {
  return (
    <div class="settings" data-testid="site-settings">
      <PrivacySection {...props} />
      <GoalsSection {...props} />
      <SegmentsSection {...props} />
      <SharedLinksSection {...props} />
      <ReportsSection {...props} />
      <ImportsSection {...props} />
    </div>
  );
}

/** A section with a title, and a problem shown when an action failed. */
function Section(props: {
  title: string;
  testId: string;
  problem: string | null;
  children: ComponentChildren;
}) {
  return (
    <section class="panel" data-testid={props.testId}>
      <h2>{props.title}</h2>
      {props.children}
      {props.problem && (
        <div class="notice notice--error" role="alert" data-testid={`${props.testId}-problem`}>
          <span>{props.problem}</span>
        </div>
      )}
    </section>
  );
}

/** Runs an action, showing its failure in the section. */
function useAction(): [string | null, (action: () => Promise<unknown>) => void] {
  const [problem, setProblem] = useState<string | null>(null);
  return [
    problem,
    (action) => {
      action().then(
        () => setProblem(null),
        (err: Error) => setProblem(err.message),
      );
    },
  ];
}

function PrivacySection({ api, site, onSite }: SettingsProps) {
  const [rotation, setRotation] = useState<string>(site.saltRotation);
  const [currency, setCurrency] = useState(site.currency);
  const [problem, act] = useAction();
  return (
    <Section title="Privacy and revenue" testId="settings-privacy" problem={problem}>
      <form
        class="site-form"
        onSubmit={(e) => {
          e.preventDefault();
          act(() => api.updateSite(site.id, { saltRotation: rotation, currency }).then(onSite));
        }}
      >
        <label>
          Visitor ids change
          <select
            data-testid="settings-rotation"
            value={rotation}
            onChange={(e) => setRotation((e.target as HTMLSelectElement).value)}
          >
            <option value="daily">every day (most private)</option>
            <option value="monthly">every month (retention within a month)</option>
          </select>
        </label>
        <label>
          Revenue currency
          <input
            class="input"
            data-testid="settings-currency"
            value={currency}
            onInput={(e) => setCurrency((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="button button--primary" data-testid="settings-save">
          Save
        </button>
        <p class="site-note">
          Daily ids mean nobody can be recognised from one day to the next; monthly ids let returning visitors
          and funnels over several days be counted within a month, at the cost of linking a visitor's visits
          for that long. Changes apply to visits from now on.
        </p>
      </form>
    </Section>
  );
}

function GoalsSection({ api, site, goals, onChanged }: SettingsProps) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('page');
  const [value, setValue] = useState('');
  const [property, setProperty] = useState('');
  const [problem, act] = useAction();
  const create = (e: Event) => {
    e.preventDefault();
    const [key, v] = property.split('=').map((x) => x.trim());
    const body =
      kind === 'page'
        ? { name, page: value }
        : { name, event: value, ...(key && v ? { props: [['is', key, [v]]] } : {}) };
    act(async () => {
      await api.make(site.id, 'goals', body);
      setName('');
      setValue('');
      setProperty('');
      onChanged();
    });
  };
  return (
    <Section title="Goals" testId="settings-goals" problem={problem}>
      <ul class="item-list">
        {goals.map((g) => (
          <li key={g.id} data-testid="goal-item">
            <strong>{g.name}</strong> <span class="site-meta">{g.description}</span>
            <button
              type="button"
              class="button button--small button--quiet"
              onClick={() => act(() => api.remove(site.id, 'goals', g.id).then(onChanged))}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      <form class="site-form" onSubmit={create}>
        <label>
          Name
          <input
            class="input"
            required
            data-testid="goal-name"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Kind
          <select
            data-testid="goal-kind"
            value={kind}
            onChange={(e) => setKind((e.target as HTMLSelectElement).value)}
          >
            <option value="page">Page visit</option>
            <option value="event">Custom event</option>
          </select>
        </label>
        <label>
          {kind === 'page' ? 'Page (* and ** as wildcards)' : 'Event name'}
          <input
            class="input"
            required
            data-testid="goal-value"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
        </label>
        {kind === 'event' && (
          <label>
            Property (optional)
            <input
              class="input"
              placeholder="plan=pro"
              data-testid="goal-property"
              value={property}
              onInput={(e) => setProperty((e.target as HTMLInputElement).value)}
            />
          </label>
        )}
        <button type="submit" class="button button--primary" data-testid="goal-create">
          Add goal
        </button>
      </form>
    </Section>
  );
}

function SegmentsSection({ api, site, segments, onChanged }: SettingsProps) {
  const [problem, act] = useAction();
  return (
    <Section title="Segments" testId="settings-segments" problem={problem}>
      {segments.length === 0 && (
        <p class="top-empty">Filter the dashboard, then save the filters as a segment.</p>
      )}
      <ul class="item-list">
        {segments.map((s) => (
          <li key={s.id} data-testid="segment-item">
            <strong>{s.name}</strong>{' '}
            <span class="site-meta">
              {s.filters.map((f) => `${f[1]} ${f[0]} ${f[2].join(', ')}`).join('; ')}
            </span>
            <button
              type="button"
              class="button button--small button--quiet"
              onClick={() => act(() => api.remove(site.id, 'segments', s.id).then(onChanged))}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function SharedLinksSection({ api, site }: SettingsProps) {
  const [links, setLinks] = useState<SharedLink[]>([]);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [made, setMade] = useState<string | null>(null);
  const [problem, act] = useAction();
  const load = () => act(() => api.list<SharedLink>(site.id, 'shared-links').then(setLinks));
  useEffect(load, [api, site.id]);
  return (
    <Section title="Shared links" testId="settings-links" problem={problem}>
      <form
        class="site-form"
        onSubmit={(e) => {
          e.preventDefault();
          act(async () => {
            const link = await api.make<{ path: string }>(site.id, 'shared-links', {
              name,
              ...(password ? { password } : {}),
            });
            setMade(location.origin + link.path);
            setName('');
            setPassword('');
            load();
          });
        }}
      >
        <label>
          Name
          <input
            class="input"
            required
            data-testid="link-name"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password (optional, 8 characters or more)
          <input
            class="input"
            type="password"
            data-testid="link-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="button button--primary" data-testid="link-create">
          Make link
        </button>
      </form>
      {made && (
        <p class="notice notice--warn">
          <span>
            Copy it now, it is shown once: <code data-testid="link-url">{made}</code>
          </span>
        </p>
      )}
      <ul class="item-list">
        {links.map((l) => (
          <li key={l.id} data-testid="link-item" data-id={l.id}>
            <strong>{l.name}</strong>{' '}
            <span class="site-meta">
              shr_{l.hint}… {l.passwordProtected ? '· password' : ''} {l.revokedAt ? '· revoked' : ''}
            </span>
            {!l.revokedAt && (
              <button
                type="button"
                class="button button--small button--quiet"
                data-testid="link-revoke"
                onClick={() => act(() => api.remove(site.id, 'shared-links', l.id).then(load))}
              >
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function ReportsSection({ api, site }: SettingsProps) {
  const [reports, setReports] = useState<Report[]>([]);
  const [frequency, setFrequency] = useState('weekly');
  const [recipients, setRecipients] = useState('');
  const [mails, setMails] = useState<Record<string, ReportMail[]>>({});
  const [problem, act] = useAction();
  const load = () => act(() => api.list<Report>(site.id, 'reports').then(setReports));
  useEffect(load, [api, site.id]);
  const history = (id: string) =>
    act(() =>
      api
        .siteCall<{ items: ReportMail[] }>(site.id, 'GET', `reports/${id}/mails`)
        .then((r) => setMails((m) => ({ ...m, [id]: r.items }))),
    );
  return (
    <Section title="Email reports" testId="settings-reports" problem={problem}>
      <form
        class="site-form"
        onSubmit={(e) => {
          e.preventDefault();
          const to = recipients.split(/[\s,;]+/).filter((r) => r);
          act(async () => {
            await api.make(site.id, 'reports', { frequency, recipients: to });
            setRecipients('');
            load();
          });
        }}
      >
        <label>
          Every
          <select
            data-testid="report-frequency"
            value={frequency}
            onChange={(e) => setFrequency((e.target as HTMLSelectElement).value)}
          >
            <option value="weekly">week (Monday, for the week before)</option>
            <option value="monthly">month (the 1st, for the month before)</option>
          </select>
        </label>
        <label>
          To (comma-separated)
          <input
            class="input"
            required
            data-testid="report-recipients"
            value={recipients}
            onInput={(e) => setRecipients((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="button button--primary" data-testid="report-create">
          Schedule
        </button>
      </form>
      <ul class="item-list">
        {reports.map((r) => (
          <li key={r.id} data-testid="report-item">
            <strong>{r.frequency}</strong>{' '}
            <span class="site-meta">
              to {r.recipients.join(', ')} · next {r.nextAt.slice(0, 16).replace('T', ' ')} UTC
            </span>
            <button
              type="button"
              class="button button--small"
              data-testid="report-send"
              onClick={() =>
                act(() => api.siteCall(site.id, 'POST', `reports/${r.id}/send`).then(() => history(r.id)))
              }
            >
              Send now
            </button>
            <button
              type="button"
              class="button button--small button--quiet"
              data-testid="report-history"
              onClick={() => history(r.id)}
            >
              History
            </button>
            <button
              type="button"
              class="button button--small button--quiet"
              onClick={() => act(() => api.remove(site.id, 'reports', r.id).then(load))}
            >
              Delete
            </button>
            {mails[r.id] && (
              <ul class="item-list">
                {mails[r.id]!.map((m) => (
                  <li key={m.id} data-testid="report-mail">
                    {m.period}: {m.status}
                    {m.error ? ` (${m.error})` : ''}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function ImportsSection({ api, site }: SettingsProps) {
  const [imports, setImports] = useState<Import[]>([]);
  const [source, setSource] = useState('plausible');
  const [files, setFiles] = useState<File[]>([]);
  const [problem, act] = useAction();
  const load = () => act(() => api.list<Import>(site.id, 'imports').then(setImports));
  useEffect(load, [api, site.id]);
  // Progress: read again while an import is under way.
  const busy = imports.some((i) => i.status === 'queued' || i.status === 'running');
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(load, 1000);
    return () => clearInterval(timer);
  }, [busy]);
  return (
    <Section title="Imports" testId="settings-imports" problem={problem}>
      <form
        class="site-form"
        onSubmit={(e) => {
          e.preventDefault();
          act(async () => {
            const texts = await Promise.all(files.map(async (f) => [f.name, await f.text()] as const));
            await api.make(site.id, 'imports', { source, files: Object.fromEntries(texts) });
            load();
          });
        }}
      >
        <label>
          From
          <select
            data-testid="import-source"
            value={source}
            onChange={(e) => setSource((e.target as HTMLSelectElement).value)}
          >
            <option value="plausible">Plausible CE (the imported_*.csv files of its CSV export)</option>
            <option value="umami">Umami (the files of its data export)</option>
          </select>
        </label>
        <label>
          CSV files
          <input
            type="file"
            multiple
            accept=".csv"
            data-testid="import-files"
            onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])}
          />
        </label>
        <button
          type="submit"
          class="button button--primary"
          data-testid="import-upload"
          disabled={files.length === 0}
        >
          Import
        </button>
      </form>
      <ul class="item-list">
        {imports.map((i) => (
          <li key={i.id} data-testid="import-item" data-status={i.status}>
            <strong>{i.source}</strong>{' '}
            <span class="site-meta" data-testid="import-progress">
              {i.status}
              {i.status === 'running' &&
                ` ${i.total > 0 ? `${i.done} of ${i.total} cells` : `${i.done} rows read`}`}
              {i.firstDay && ` · ${i.firstDay} to ${i.lastDay}`}
              {i.skippedDays > 0 && ` · ${i.skippedDays} days already collected left out`}
              {i.error && ` · ${i.error}`}
            </span>
            <button
              type="button"
              class="button button--small button--quiet"
              data-testid="import-delete"
              onClick={() => act(() => api.remove(site.id, 'imports', i.id).then(load))}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}
