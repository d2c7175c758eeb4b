import { useEffect, useRef, useState } from 'preact/hooks';
import '../uptime.css';
import { formatDateTime } from '../format.ts';
import type { PageProps } from '../routes.ts';
import {
  groupsText,
  parseGroups,
  StatusPagesApi,
  UPDATE_STATUSES,
  type StatusPageSpec,
  type StatusPageView,
  type StatusUpdateView,
  type UpdateStatus,
} from '../status-pages-api.ts';
import { Field, Problem } from './settings.tsx';

/** An ISO time as `datetime-local` text in the browser's zone. */
function localTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const blank: StatusPageSpec = {
  slug: '',
  title: '',
  description: '',
  groups: [],
  theme: 'light',
  showResponseTimes: false,
  showTargetUrls: false,
};

/** `/status-pages`: public status pages (which targets they show, and how) and their incident updates. */
export function StatusPagesPage({ session }: PageProps) {
  const api = useRef(new StatusPagesApi(session.token)).current;
  const [pages, setPages] = useState<StatusPageView[]>([]);
  /** The page being edited: undefined for none, null for a new one. */
  const [editing, setEditing] = useState<StatusPageView | null | undefined>(undefined);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    api.pages(abort.signal).then(setPages, (err: Error) => {
      if (err.name !== 'AbortError') setProblem(err.message);
    });
    return () => abort.abort();
  }, [api]);

  const remove = (page: StatusPageView) => {
    if (!confirm(`Delete the status page ${page.title} and its updates?`)) return;
    api.delete(page.id).then(
      () => {
        setPages((list) => list.filter((p) => p.id !== page.id));
        if (selected === page.id) setSelected(undefined);
      },
      (err: Error) => setProblem(err.message),
    );
  };
  const saved = (page: StatusPageView) => {
    setPages((list) =>
      list.some((p) => p.id === page.id) ? list.map((p) => (p.id === page.id ? page : p)) : [...list, page],
    );
    setEditing(undefined);
    setSelected(page.id);
  };
  const current = pages.find((p) => p.id === selected);

  return (
    <section class="page settings" data-testid="status-pages">
      <header class="toolbar">
        <h1>Status pages</h1>
        <button
          type="button"
          class="button button--primary"
          data-testid="status-page-new"
          onClick={() => setEditing(null)}
        >
          New status page
        </button>
      </header>
      <p class="uptime-muted">
        Public pages, readable without a token, showing the state and 90 days of uptime of the targets you
        choose, with the incident updates you publish.
      </p>
      <Problem text={problem} testid="status-pages-problem" />
      {editing !== undefined && (
        <PageForm
          key={editing?.id ?? 'new'}
          api={api}
          page={editing}
          onSaved={saved}
          onCancel={() => setEditing(undefined)}
        />
      )}
      {pages.length === 0 ? (
        <p class="uptime-muted" data-testid="status-pages-empty">
          No status pages yet.
        </p>
      ) : (
        <table class="uptime-table" data-testid="status-page-list">
          <tbody>
            {pages.map((p) => (
              <tr key={p.id} data-testid="status-page-row" data-id={p.id}>
                <td>
                  <strong>{p.title}</strong>
                  <div class="uptime-url">
                    <a href={p.url} target="_blank" rel="noopener" data-testid="status-page-link">
                      {p.url}
                    </a>
                    {p.domain ? ` · also https://${p.domain}/` : ''} · {p.groups.length} group
                    {p.groups.length === 1 ? '' : 's'}
                  </div>
                </td>
                <td class="site-actions">
                  <button
                    type="button"
                    class="button button--small"
                    data-testid="status-page-updates"
                    onClick={() => setSelected(p.id)}
                  >
                    Updates
                  </button>
                  <button
                    type="button"
                    class="button button--small"
                    data-testid="status-page-edit"
                    onClick={() => setEditing(p)}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    class="button button--small button--quiet"
                    data-testid="status-page-delete"
                    onClick={() => remove(p)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {current && <Updates key={current.id} api={api} page={current} />}
    </section>
  );
}

function PageForm(props: {
  api: StatusPagesApi;
  page: StatusPageView | null;
  onSaved: (page: StatusPageView) => void;
  onCancel: () => void;
}) {
  const start = props.page ?? blank;
  const [slug, setSlug] = useState(start.slug);
  const [title, setTitle] = useState(start.title);
  const [description, setDescription] = useState(start.description);
  const [groups, setGroups] = useState(groupsText(start.groups));
  const [domain, setDomain] = useState(start.domain ?? '');
  const [theme, setTheme] = useState(start.theme);
  const [responseTimes, setResponseTimes] = useState(start.showResponseTimes);
  const [urls, setUrls] = useState(start.showTargetUrls);
  const [problem, setProblem] = useState<string | null>(null);

  const save = (event: Event) => {
    event.preventDefault();
    let spec: StatusPageSpec;
    try {
      spec = {
        slug: slug.trim(),
        title,
        description,
        groups: parseGroups(groups),
        ...(domain.trim() ? { domain: domain.trim().toLowerCase() } : {}),
        theme,
        showResponseTimes: responseTimes,
        showTargetUrls: urls,
      };
    } catch (err) {
      setProblem((err as Error).message);
      return;
    }
    const done = props.page ? props.api.replace(props.page.id, spec) : props.api.create(spec);
    done.then(props.onSaved, (err: Error) => setProblem(err.message));
  };

  return (
    <form class="site-form" onSubmit={save} data-testid="status-page-form">
      <h2 class="uptime-h2">{props.page ? `Edit ${props.page.title}` : 'New status page'}</h2>
      <Field label="Title" testid="status-page-title" required value={title} onValue={setTitle} />
      <Field
        label="Slug (the page is /status/slug)"
        testid="status-page-slug"
        required
        placeholder="acme"
        value={slug}
        onValue={setSlug}
      />
      <Field
        label="Description"
        testid="status-page-description"
        value={description}
        onValue={setDescription}
      />
      <label class="field">
        <span class="field-label">Groups, one a line: “Name: target, target” or “Name: #tag”</span>
        <textarea
          class="input"
          rows={4}
          data-testid="status-page-groups"
          value={groups}
          onInput={(e) => setGroups((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <Field
        label="Custom domain (optional)"
        testid="status-page-domain"
        placeholder="status.example.com"
        value={domain}
        onValue={setDomain}
      />
      <label class="field">
        <span class="field-label">Theme</span>
        <select
          class="input"
          data-testid="status-page-theme"
          value={theme}
          onChange={(e) => setTheme((e.target as HTMLSelectElement).value as 'light' | 'dark')}
        >
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
      <label class="site-check">
        <input
          type="checkbox"
          data-testid="status-page-response-times"
          checked={responseTimes}
          onChange={(e) => setResponseTimes((e.target as HTMLInputElement).checked)}
        />
        Show response times
      </label>
      <label class="site-check">
        <input
          type="checkbox"
          data-testid="status-page-urls"
          checked={urls}
          onChange={(e) => setUrls((e.target as HTMLInputElement).checked)}
        />
        Show what each target checks (its URL or host); otherwise only its name
      </label>
      <div class="site-actions">
        <button type="submit" class="button button--primary" data-testid="status-page-save">
          {props.page ? 'Save' : 'Create'}
        </button>
        <button type="button" class="button button--quiet" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <Problem text={problem} testid="status-page-problem" />
    </form>
  );
}

function Updates({ api, page }: { api: StatusPagesApi; page: StatusPageView }) {
  const [updates, setUpdates] = useState<StatusUpdateView[]>([]);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [title, setTitle] = useState('');
  const [status, setStatus] = useState<UpdateStatus>('investigating');
  const [body, setBody] = useState('');
  /** `datetime-local` text in the browser's zone; empty: now (or unchanged, when editing). */
  const [at, setAt] = useState('');
  /** What the time field showed when an update was opened for editing. */
  const [shownAt, setShownAt] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    api.updates(page.id, abort.signal).then(setUpdates, (err: Error) => {
      if (err.name !== 'AbortError') setProblem(err.message);
    });
    return () => abort.abort();
  }, [api, page.id]);

  const reset = () => {
    setEditing(undefined);
    setTitle('');
    setBody('');
    setStatus('investigating');
    setAt('');
    setShownAt('');
    setProblem(null);
  };
  const publish = (event: Event) => {
    event.preventDefault();
    // A time left as shown keeps the stored one (the field holds whole minutes only).
    const changed = at !== '' && at !== shownAt;
    const spec = { title, body, status, ...(changed ? { at: new Date(at).toISOString() } : {}) };
    (editing ? api.edit(page.id, editing, spec) : api.publish(page.id, spec)).then(
      (u) => {
        setUpdates((list) =>
          (list.some((x) => x.id === u.id) ? list.map((x) => (x.id === u.id ? u : x)) : [u, ...list]).sort(
            (a, b) => Date.parse(b.at) - Date.parse(a.at),
          ),
        );
        reset();
      },
      (err: Error) => setProblem(err.message),
    );
  };
  const remove = (u: StatusUpdateView) =>
    api.unpublish(page.id, u.id).then(
      () => setUpdates((list) => list.filter((x) => x.id !== u.id)),
      (err: Error) => setProblem(err.message),
    );

  return (
    <section data-testid="status-updates">
      <h2 class="uptime-h2">Incident updates on {page.title}</h2>
      <form class="site-form" onSubmit={publish} data-testid="status-update-form">
        <Field label="Title" testid="status-update-title" required value={title} onValue={setTitle} />
        <label class="field">
          <span class="field-label">Status</span>
          <select
            class="input"
            data-testid="status-update-status"
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value as UpdateStatus)}
          >
            {UPDATE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <Field
          label="When (empty: now)"
          testid="status-update-at"
          type="datetime-local"
          value={at}
          onValue={setAt}
        />
        <label class="field">
          <span class="field-label">Message (Markdown)</span>
          <textarea
            class="input"
            rows={4}
            data-testid="status-update-body"
            value={body}
            onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <div class="site-actions">
          <button type="submit" class="button button--primary" data-testid="status-update-publish">
            {editing ? 'Save update' : 'Publish update'}
          </button>
          {editing && (
            <button type="button" class="button button--quiet" onClick={reset}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <Problem text={problem} testid="status-update-problem" />
      <table class="uptime-table" data-testid="status-update-list">
        <tbody>
          {updates.map((u) => (
            <tr key={u.id} data-testid="status-update-row" data-id={u.id}>
              <td>
                <strong>{u.title}</strong> <span class="pill">{u.status}</span>
                <div class="uptime-url">{formatDateTime(Date.parse(u.at))}</div>
              </td>
              <td class="site-actions">
                <button
                  type="button"
                  class="button button--small"
                  data-testid="status-update-edit"
                  onClick={() => {
                    setEditing(u.id);
                    setTitle(u.title);
                    setBody(u.body);
                    setStatus(u.status);
                    setAt(localTime(u.at));
                    setShownAt(localTime(u.at));
                  }}
                >
                  Edit
                </button>
                <button
                  type="button"
                  class="button button--small button--quiet"
                  data-testid="status-update-delete"
                  onClick={() => void remove(u)}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
