import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { isAbort } from '../api.ts';
import type { PageProps } from '../routes.ts';
import { TargetForm } from '../target-form.tsx';
import {
  addressOf,
  bulkTargets,
  exportTargets,
  importTargets,
  KINDS,
  searchTargets,
  stateOf,
  TARGET_STATES,
  type BulkAction,
  type CheckView,
  type Kind,
  type TargetQuery,
  type TargetState,
  type TargetView,
} from '../uptime-api.ts';
import { VirtualRows } from '../virtual-rows.tsx';

/** Rows per page fetched from the server as the list scrolls. */
const PAGE = 100;
const ROW_HEIGHT = 48;
const SPARK_POINTS = 60;
/** Typing settles this long before the list is asked again. */
const DEBOUNCE_MS = 250;
/** Live checks are applied at most this often, however fast they arrive. */
const FLUSH_MS = 1000;

const pct = (n: number | null) => (n === null ? '–' : `${n.toFixed(n === 100 ? 0 : 2)}%`);

export function StatePill({ state }: { state: TargetState }) {
  return (
    <span class={`pill uptime-state uptime-state--${state}`} data-testid="target-state">
      <span class="pill-dot" />
      {state}
    </span>
  );
}

/** `value`, once it has stopped changing for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value]);
  return settled;
}

/** A small uPlot line of the last response times. */
export function Sparkline({ values }: { values: readonly number[] }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!el.current) return;
    chart.current = new uPlot(
      {
        width: 120,
        height: 26,
        cursor: { show: false },
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: '#2f6fed', width: 1.5, points: { show: false } }],
      },
      [[], []],
      el.current,
    );
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    chart.current?.setData([values.map((_, i) => i), [...values]]);
  }, [values]);
  return <div class="sparkline" ref={el} data-testid="sparkline" data-points={values.length} />;
}

type FormState =
  | { readonly mode: 'create'; readonly from?: TargetView }
  | { readonly mode: 'edit'; readonly target: TargetView };

/**
 * `/uptime`'s list: the server filters and pages (search, state, tag, kind), only the rows in view
 * are drawn, more pages load as it scrolls, and live checks of loaded rows are applied once a
 * second. Targets are created, edited, paused, cloned and deleted here, in bulk by tag too, and the
 * whole set moves in and out as YAML.
 */
export function TargetList({
  session,
  select,
  onLiveCheck,
}: PageProps & {
  select: (id: string) => void;
  /** Registers the list's live-check handler with the page's stream. */
  onLiveCheck: (handler: ((check: CheckView) => void) | null) => void;
}) {
  const api = session.api;
  const [text, setText] = useState('');
  const [tagText, setTagText] = useState('');
  const [state, setState] = useState<TargetState | ''>('');
  const [kind, setKind] = useState<Kind | ''>('');
  const q = useDebounced(text, DEBOUNCE_MS);
  const tag = useDebounced(tagText.trim(), DEBOUNCE_MS);
  const query: TargetQuery = { q, state, tag, kind };
  const queryKey = JSON.stringify(query);

  const [rows, setRows] = useState<TargetView[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [form, setForm] = useState<FormState | null>(null);
  const [importing, setImporting] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const loadingMore = useRef(false);
  /** The query the rows belong to: a page answered for an older one is dropped. */
  const generation = useRef(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    const abort = new AbortController();
    const gen = ++generation.current;
    loadingMore.current = false;
    searchTargets(api, query, PAGE, null, abort.signal).then(
      (page) => {
        if (gen !== generation.current) return;
        setRows(page.items);
        setNext(page.next);
        setTotal(page.total);
        setLoaded(true);
        setError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setError((err as Error).message);
      },
    );
    return () => abort.abort();
  }, [session, queryKey, version]);

  const loadMore = () => {
    if (next === null || loadingMore.current) return;
    loadingMore.current = true;
    const gen = generation.current;
    searchTargets(api, query, PAGE, next).then(
      (page) => {
        loadingMore.current = false;
        if (gen !== generation.current) return;
        setRows((r) => [...r, ...page.items]);
        setNext(page.next);
      },
      (err: unknown) => {
        loadingMore.current = false;
        setError((err as Error).message);
      },
    );
  };

  // Live checks: collected as they come (only for loaded rows), applied at most once a second.
  const loadedIds = useRef(new Set<string>());
  loadedIds.current = new Set(rows.map((r) => r.id));
  const pending = useRef(new Map<string, CheckView[]>());
  const spark = useRef(new Map<string, number[]>());
  const [, setSparkVersion] = useState(0);
  useEffect(() => {
    onLiveCheck((check) => {
      if (!loadedIds.current.has(check.target)) return;
      const list = pending.current.get(check.target);
      if (list) list.push(check);
      else pending.current.set(check.target, [check]);
    });
    const timer = setInterval(() => {
      if (pending.current.size === 0) return;
      const batch = pending.current;
      pending.current = new Map();
      for (const [id, checks] of batch) {
        const values = [...(spark.current.get(id) ?? []), ...checks.map((c) => c.durationMs)];
        spark.current.set(id, values.slice(-SPARK_POINTS));
      }
      for (const id of spark.current.keys()) if (!loadedIds.current.has(id)) spark.current.delete(id);
      setRows((list) => {
        let changed = false;
        const out = list.map((t) => {
          const checks = batch.get(t.id);
          if (!checks || t.paused === true) return t;
          changed = true;
          const last = checks.reduce((a, b) => (a.scheduledAt >= b.scheduledAt ? a : b));
          return { ...t, state: stateOf(last), lastCheck: last };
        });
        return changed ? out : list;
      });
      setSparkVersion((v) => v + 1);
    }, FLUSH_MS);
    return () => {
      onLiveCheck(null);
      clearInterval(timer);
    };
  }, []);

  const replaceRow = (t: TargetView) => setRows((list) => list.map((r) => (r.id === t.id ? t : r)));
  const [problem, setProblem] = useState<string | null>(null);
  const act = (action: () => Promise<unknown>) =>
    action().then(
      () => setProblem(null),
      (err: unknown) => setProblem((err as Error).message),
    );
  const setPaused = (t: TargetView, paused: boolean) =>
    act(async () =>
      replaceRow(
        (await api.send('PATCH', `/v1/targets/${encodeURIComponent(t.id)}`, {
          paused: paused ? true : null,
        })) as TargetView,
      ),
    );
  const remove = (t: TargetView) =>
    act(async () => {
      await api.send('DELETE', `/v1/targets/${encodeURIComponent(t.id)}`);
      setRows((list) => list.filter((r) => r.id !== t.id));
      setTotal((n) => (n === null ? n : n - 1));
      setConfirmDelete(null);
    });

  const download = () =>
    act(async () => {
      const yaml = await exportTargets(api);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
      link.download = 'targets.yaml';
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    });

  return (
    <section class="page uptime">
      <header class="toolbar">
        <h1>Uptime</h1>
        {total !== null && (
          <span class="uptime-count" data-testid="target-total">
            {total} targets
          </span>
        )}
        <button
          type="button"
          class="button button--primary button--small"
          data-testid="new-target"
          onClick={() => setForm({ mode: 'create' })}
        >
          New target
        </button>
        <button type="button" class="button button--small" onClick={() => setImporting((v) => !v)}>
          Import YAML
        </button>
        <button
          type="button"
          class="button button--small"
          data-testid="export-yaml"
          onClick={() => void download()}
        >
          Export YAML
        </button>
      </header>
      <div class="target-filters">
        <input
          class="input"
          type="search"
          placeholder="Search id, name, URL, host"
          data-testid="target-search"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <select
          class="input"
          data-testid="filter-state"
          value={state}
          onChange={(e) => setState(e.currentTarget.value as TargetState | '')}
        >
          <option value="">any state</option>
          {TARGET_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <input
          class="input"
          placeholder="tag"
          data-testid="filter-tag"
          value={tagText}
          onInput={(e) => setTagText(e.currentTarget.value)}
        />
        <select
          class="input"
          data-testid="filter-kind"
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value as Kind | '')}
        >
          <option value="">any kind</option>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      <BulkBar session={session} onDone={reload} />
      {importing && <ImportPanel session={session} onDone={reload} />}
      {form && (
        <TargetForm
          api={api}
          mode={form.mode}
          initial={form.mode === 'edit' ? form.target : form.from}
          id={form.mode === 'create' && form.from ? `${form.from.id}-copy` : undefined}
          onSaved={() => {
            setForm(null);
            reload();
          }}
          onCancel={() => setForm(null)}
        />
      )}
      {error && <div class="notice notice--error">{error}</div>}
      {problem && (
        <div class="notice notice--error" data-testid="list-error">
          {problem}
        </div>
      )}
      {loaded && rows.length === 0 && (
        <div class="placeholder" data-testid="target-empty">
          <p class="placeholder-title">
            {total === 0 && !q && !state && !tag && !kind ? 'No targets yet' : 'No match'}
          </p>
          <p>Create one with New target, import YAML, or list them in the targets file.</p>
        </div>
      )}
      {rows.length > 0 && (
        <div class="target-table" data-testid="target-list">
          <div class="target-grid target-grid--head">
            <span>Target</span>
            <span>State</span>
            <span>Response time</span>
            <span class="num">Last</span>
            <span class="num">24 h</span>
            <span class="num">7 d</span>
            <span class="num">30 d</span>
            <span />
          </div>
          <VirtualRows
            rows={rows}
            rowHeight={ROW_HEIGHT}
            height="min(70vh, 720px)"
            testId="target-rows"
            onNearEnd={loadMore}
            footer={next !== null ? <div class="uptime-muted target-more">Loading more…</div> : undefined}
            render={(t) => (
              <div class="target-grid" data-testid="target-row" data-id={t.id} key={t.id}>
                <span class="target-name">
                  <a
                    href={`/uptime?target=${encodeURIComponent(t.id)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      select(t.id);
                    }}
                  >
                    {t.name ?? t.id}
                  </a>
                  <span class="uptime-url">{addressOf(t)}</span>
                </span>
                <span>
                  <StatePill state={t.state} />
                </span>
                <span>
                  <Sparkline values={spark.current.get(t.id) ?? []} />
                </span>
                <span class="num" data-testid="target-last">
                  {t.lastCheck ? `${Math.round(t.lastCheck.durationMs)} ms` : '–'}
                </span>
                <span class="num" data-testid="target-uptime-24h">
                  {pct(t.uptime.h24)}
                </span>
                <span class="num">{pct(t.uptime.d7)}</span>
                <span class="num">{pct(t.uptime.d30)}</span>
                <span class="target-actions">
                  {t.source === 'file' ? (
                    <span class="uptime-muted" title="Defined in the targets file">
                      file
                    </span>
                  ) : (
                    <>
                      <button
                        type="button"
                        class="button button--small button--quiet"
                        data-action="edit"
                        onClick={() => setForm({ mode: 'edit', target: t })}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="button button--small button--quiet"
                        data-action={t.paused ? 'resume' : 'pause'}
                        onClick={() => void setPaused(t, !t.paused)}
                      >
                        {t.paused ? 'Resume' : 'Pause'}
                      </button>
                      <button
                        type="button"
                        class="button button--small button--quiet"
                        data-action="clone"
                        onClick={() => setForm({ mode: 'create', from: t })}
                      >
                        Clone
                      </button>
                      {confirmDelete === t.id ? (
                        <button
                          type="button"
                          class="button button--small"
                          data-action="confirm-delete"
                          onClick={() => void remove(t)}
                        >
                          Really delete
                        </button>
                      ) : (
                        <button
                          type="button"
                          class="button button--small button--quiet"
                          data-action="delete"
                          onClick={() => setConfirmDelete(t.id)}
                        >
                          Delete
                        </button>
                      )}
                    </>
                  )}
                </span>
              </div>
            )}
          />
        </div>
      )}
    </section>
  );
}

const BULK_LABELS: Record<BulkAction, string> = {
  pause: 'Pause',
  resume: 'Resume',
  delete: 'Delete',
  addTag: 'Add tag',
  removeTag: 'Remove tag',
};

/** Pause, resume, delete or re-tag every target with a tag. */
function BulkBar({ session, onDone }: Pick<PageProps, 'session'> & { onDone: () => void }) {
  const [tag, setTag] = useState('');
  const [action, setAction] = useState<BulkAction>('pause');
  const [value, setValue] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const tagged = action === 'addTag' || action === 'removeTag';
  const apply = async () => {
    try {
      const r = await bulkTargets(session.api, {
        action,
        tag: tag.trim(),
        ...(tagged ? { value: value.trim() } : {}),
      });
      setProblem(null);
      setResult(
        `${r.matched} matched, ${r.changed} changed, ${r.unchanged} unchanged${r.readOnly ? `, ${r.readOnly} from the file` : ''}${r.failed.length ? `, ${r.failed.length} failed (${r.failed[0]!.id}: ${r.failed[0]!.message})` : ''}`,
      );
      onDone();
    } catch (err) {
      setResult(null);
      setProblem((err as Error).message);
    }
  };
  return (
    <form
      class="target-bulk"
      data-testid="bulk"
      onSubmit={(e) => {
        e.preventDefault();
        void apply();
      }}
    >
      <span class="uptime-muted">Every target tagged</span>
      <input
        class="input"
        placeholder="tag"
        data-testid="bulk-tag"
        value={tag}
        onInput={(e) => setTag(e.currentTarget.value)}
      />
      <select
        class="input"
        data-testid="bulk-action"
        value={action}
        onChange={(e) => setAction(e.currentTarget.value as BulkAction)}
      >
        {(Object.keys(BULK_LABELS) as BulkAction[]).map((a) => (
          <option key={a} value={a}>
            {BULK_LABELS[a]}
          </option>
        ))}
      </select>
      {tagged && (
        <input
          class="input"
          placeholder="tag to add or remove"
          data-testid="bulk-value"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
      )}
      <button
        type="submit"
        class="button button--small"
        data-testid="bulk-apply"
        disabled={tag.trim() === ''}
      >
        Apply
      </button>
      {result && (
        <span class="uptime-muted" data-testid="bulk-result">
          {result}
        </span>
      )}
      {problem && (
        <span class="field-error" data-testid="bulk-error">
          {problem}
        </span>
      )}
    </form>
  );
}

/** YAML in the targets file's format, pasted or read from a file, created or replaced by id. */
function ImportPanel({ session, onDone }: Pick<PageProps, 'session'> & { onDone: () => void }) {
  const [yaml, setYaml] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const run = async () => {
    try {
      const r = await importTargets(session.api, yaml);
      setProblem(null);
      setResult(`${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`);
      onDone();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <div class="target-import" data-testid="import">
      <p class="uptime-muted">
        A <code>targets:</code> list as Export YAML writes it. Every item is checked first: one invalid item
        and nothing is imported.
      </p>
      <input
        type="file"
        accept=".yaml,.yml,application/yaml,text/yaml"
        data-testid="import-file"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (file) void file.text().then(setYaml);
        }}
      />
      <textarea
        class="input"
        rows={8}
        data-testid="import-yaml"
        value={yaml}
        onInput={(e) => setYaml(e.currentTarget.value)}
      />
      <button
        type="button"
        class="button button--primary button--small"
        data-testid="import-apply"
        onClick={() => void run()}
      >
        Import
      </button>
      {problem && (
        <div class="notice notice--error" data-testid="import-error">
          {problem}
        </div>
      )}
      {result && <span data-testid="import-result">{result}</span>}
    </div>
  );
}
