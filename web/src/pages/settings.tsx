import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import '../uptime.css';
import {
  AlertsApi,
  type AlertRuleView,
  type ChannelKind,
  type ChannelView,
  type MaintenanceView,
  type TestResult,
} from '../alerts-api.ts';
import { formatDateTime } from '../format.ts';
import { BadgeTokenSettings } from './badges.tsx';
import type { PageProps } from '../routes.ts';

/** Comma- or whitespace-separated words as typed into one field. */
const words = (text: string) => text.split(/[\s,]+/).filter((w) => w !== '');

/**
 * `/settings`: where alerts go (channels), when (rules), and when not (maintenance windows); and the
 * badge token.
 */
export function SettingsPage({ session }: PageProps) {
  const api = useRef(new AlertsApi(session.token)).current;
  const [channels, setChannels] = useState<ChannelView[]>([]);
  const [kinds, setKinds] = useState<ChannelKind[]>([]);
  const [rules, setRules] = useState<AlertRuleView[]>([]);
  const [windows, setWindows] = useState<MaintenanceView[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    Promise.all([
      api.channels(abort.signal),
      api.channelKinds(abort.signal),
      api.rules(abort.signal),
      api.windows(abort.signal),
    ])
      .then(([c, k, r, w]) => {
        setChannels(c);
        setKinds(k);
        setRules(r);
        setWindows(w);
      })
      .catch((err: Error) => {
        if (err.name !== 'AbortError') setProblem(err.message);
      });
    return () => abort.abort();
  }, [api]);

  return (
    <section class="page settings">
      <header class="toolbar">
        <h1>Alert settings</h1>
      </header>
      {problem && (
        <div class="notice notice--error" role="alert">
          {problem}
        </div>
      )}
      <Channels api={api} kinds={kinds} channels={channels} setChannels={setChannels} />
      <Rules api={api} channels={channels} rules={rules} setRules={setRules} />
      <Windows api={api} windows={windows} setWindows={setWindows} />
      <BadgeTokenSettings token={session.token} />
    </section>
  );
}

export function Field(props: {
  label: string;
  testid: string;
  value: string;
  onValue: (v: string) => void;
  placeholder?: string;
  required?: boolean;
  type?: 'text' | 'password' | 'number' | 'datetime-local';
}) {
  return (
    <label class="field">
      <span class="field-label">{props.label}</span>
      {/* h() rather than JSX: Preact's JSX types each input type apart, and this one serves several. */}
      {h('input', {
        class: 'input',
        type: props.type ?? 'text',
        'data-testid': props.testid,
        required: props.required,
        placeholder: props.placeholder,
        value: props.value,
        autocomplete: 'off',
        onInput: (e: Event) => props.onValue((e.target as HTMLInputElement).value),
      })}
    </label>
  );
}

/** Delete, for what the API defined; what the targets file defined is changed there. */
function DeleteButton(props: { source: 'api' | 'file'; testid: string; onClick: () => void }) {
  return props.source === 'api' ? (
    <button
      type="button"
      class="button button--small button--quiet"
      data-testid={props.testid}
      onClick={props.onClick}
    >
      Delete
    </button>
  ) : null;
}

export function Problem({ text, testid }: { text: string | null; testid: string }) {
  return text ? (
    <div class="notice notice--error" role="alert" data-testid={testid}>
      {text}
    </div>
  ) : null;
}

function Channels(props: {
  api: AlertsApi;
  kinds: ChannelKind[];
  channels: ChannelView[];
  setChannels: (f: (list: ChannelView[]) => ChannelView[]) => void;
}) {
  const { api } = props;
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [template, setTemplate] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [results, setResults] = useState<Record<string, TestResult | string>>({});

  const add = (event: Event) => {
    event.preventDefault();
    api.createChannel({ name, url, ...(template.trim() ? { template } : {}) }).then(
      (ch) => {
        props.setChannels((list) => [...list, ch]);
        setName('');
        setUrl('');
        setTemplate('');
        setProblem(null);
      },
      (err: Error) => setProblem(err.message),
    );
  };
  const test = (id: string) => {
    setResults((r) => ({ ...r, [id]: 'sending…' }));
    api.testChannel(id).then(
      (result) => setResults((r) => ({ ...r, [id]: result })),
      (err: Error) => setResults((r) => ({ ...r, [id]: err.message })),
    );
  };
  const remove = (id: string) => {
    api.deleteChannel(id).then(
      () => props.setChannels((list) => list.filter((c) => c.id !== id)),
      (err: Error) => setProblem(err.message),
    );
  };

  return (
    <>
      <h2 class="uptime-h2">Channels</h2>
      <p class="uptime-muted">
        Where notifications go, as a service URL in Apprise's style:{' '}
        {props.kinds.map((k) => `${k.schemes[0]}:// (${k.label})`).join(', ')}. The URL holds secrets: it is
        never shown again.
      </p>
      <form class="site-form" onSubmit={add} data-testid="channel-form">
        <Field label="Name" testid="channel-name" required value={name} onValue={setName} />
        <Field
          label="URL"
          testid="channel-url"
          required
          type="password"
          placeholder="slack://T000/B000/XXXX"
          value={url}
          onValue={setUrl}
        />
        {/^jsons?:\/\//.test(url) && (
          <label class="field">
            <span class="field-label">Body template (JSON, optional)</span>
            <textarea
              class="input"
              data-testid="channel-template"
              value={template}
              placeholder='{"text": "{{title}}", "alerts": "{{items}}"}'
              onInput={(e) => setTemplate((e.target as HTMLTextAreaElement).value)}
            />
          </label>
        )}
        <button type="submit" class="button button--primary" data-testid="channel-add">
          Add channel
        </button>
      </form>
      <Problem text={problem} testid="channel-problem" />
      <table class="uptime-table" data-testid="channel-list">
        <tbody>
          {props.channels.map((ch) => {
            const result = results[ch.id];
            return (
              <tr key={ch.id} data-testid="channel-row" data-id={ch.id}>
                <td>
                  <strong>{ch.name}</strong>
                  <div class="uptime-url">
                    {ch.kind} · {ch.summary}
                    {ch.source === 'file' ? ' · from the targets file' : ''}
                  </div>
                </td>
                <td data-testid="channel-test-result">
                  {typeof result === 'string'
                    ? result
                    : result && (
                        <span class={result.ok ? 'uptime-state--up' : 'uptime-state--down'}>
                          {result.ok ? 'Sent' : 'Failed'}
                          {result.status !== null ? ` (${result.status})` : ''}: {result.answer || '–'}
                        </span>
                      )}
                </td>
                <td class="site-actions">
                  <button
                    type="button"
                    class="button button--small"
                    data-testid="channel-test"
                    onClick={() => test(ch.id)}
                  >
                    Send a test
                  </button>
                  <DeleteButton source={ch.source} testid="channel-delete" onClick={() => remove(ch.id)} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function Rules(props: {
  api: AlertsApi;
  channels: ChannelView[];
  rules: AlertRuleView[];
  setRules: (f: (list: AlertRuleView[]) => AlertRuleView[]) => void;
}) {
  const { api } = props;
  const [name, setName] = useState('');
  const [tags, setTags] = useState('');
  const [targets, setTargets] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [downAfter, setDownAfter] = useState('');
  const [remind, setRemind] = useState('0');
  const [group, setGroup] = useState('10');
  const [degraded, setDegraded] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const add = (event: Event) => {
    event.preventDefault();
    api
      .createRule({
        ...(name ? { name } : {}),
        tags: words(tags),
        targets: words(targets),
        channels: chosen,
        ...(downAfter ? { downAfter: Number(downAfter) } : {}),
        remindEveryMinutes: Number(remind),
        groupWindowSeconds: Number(group),
        notifyOn: { recovery: true, degraded, certificate: true },
      })
      .then(
        (rule) => {
          props.setRules((list) => [...list, rule]);
          setName('');
          setTags('');
          setTargets('');
          setChosen([]);
          setProblem(null);
        },
        (err: Error) => setProblem(err.message),
      );
  };
  const remove = (id: string) =>
    api.deleteRule(id).then(
      () => props.setRules((list) => list.filter((r) => r.id !== id)),
      (err: Error) => setProblem(err.message),
    );

  return (
    <>
      <h2 class="uptime-h2">Alert rules</h2>
      <form class="site-form" onSubmit={add} data-testid="rule-form">
        <Field label="Name" testid="rule-name" value={name} onValue={setName} />
        <Field
          label="Tags (empty with no targets: every target)"
          testid="rule-tags"
          value={tags}
          onValue={setTags}
        />
        <Field label="Targets" testid="rule-targets" value={targets} onValue={setTargets} />
        <fieldset class="field">
          <span class="field-label">Channels</span>
          {props.channels.map((ch) => (
            <label key={ch.id} class="site-check">
              <input
                type="checkbox"
                data-testid="rule-channel"
                value={ch.id}
                checked={chosen.includes(ch.id)}
                onChange={(e) => {
                  const on = (e.target as HTMLInputElement).checked;
                  setChosen((list) => (on ? [...list, ch.id] : list.filter((c) => c !== ch.id)));
                }}
              />
              {ch.name}
            </label>
          ))}
        </fieldset>
        <Field
          label="After failed checks (default: the target's)"
          testid="rule-down-after"
          type="number"
          value={downAfter}
          onValue={setDownAfter}
        />
        <Field
          label="Remind every (minutes, 0: never)"
          testid="rule-remind"
          type="number"
          value={remind}
          onValue={setRemind}
        />
        <Field
          label="Group for (seconds)"
          testid="rule-group"
          type="number"
          value={group}
          onValue={setGroup}
        />
        <label class="site-check">
          <input
            type="checkbox"
            checked={degraded}
            onChange={(e) => setDegraded((e.target as HTMLInputElement).checked)}
          />
          Tell when a target is degraded
        </label>
        <button type="submit" class="button button--primary" data-testid="rule-add">
          Add rule
        </button>
      </form>
      <Problem text={problem} testid="rule-problem" />
      <table class="uptime-table" data-testid="rule-list">
        <tbody>
          {props.rules.map((r) => (
            <tr key={r.id} data-testid="rule-row" data-id={r.id}>
              <td>
                <strong>{r.name ?? r.id}</strong>
                <div class="uptime-url">
                  {r.targets.length + r.tags.length === 0
                    ? 'every target'
                    : [...r.targets, ...r.tags.map((t) => `#${t}`)].join(', ')}{' '}
                  → {r.channels.join(', ')}
                  {r.remindEveryMinutes > 0 ? ` · reminds every ${r.remindEveryMinutes} min` : ''}
                </div>
              </td>
              <td class="site-actions">
                <DeleteButton source={r.source} testid="rule-delete" onClick={() => void remove(r.id)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** `2026-05-03T02:00` in the browser's zone, a minute from now rounded, for the window form. */
const localNow = (plusMinutes = 0) => {
  const d = new Date(Date.now() + plusMinutes * 60_000);
  d.setSeconds(0, 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

function Windows(props: {
  api: AlertsApi;
  windows: MaintenanceView[];
  setWindows: (f: (list: MaintenanceView[]) => MaintenanceView[]) => void;
}) {
  const { api } = props;
  const [title, setTitle] = useState('');
  const [tags, setTags] = useState('');
  const [targets, setTargets] = useState('');
  const [recurring, setRecurring] = useState(false);
  const [start, setStart] = useState(localNow());
  const [end, setEnd] = useState(localNow(60));
  const [rrule, setRrule] = useState('FREQ=WEEKLY;BYDAY=SU');
  const [duration, setDuration] = useState('60');
  const [zone, setZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [problem, setProblem] = useState<string | null>(null);

  const add = (event: Event) => {
    event.preventDefault();
    api
      .createWindow({
        title,
        tags: words(tags),
        targets: words(targets),
        start,
        timeZone: zone,
        ...(recurring ? { rrule, durationMinutes: Number(duration) } : { end }),
      })
      .then(
        (w) => {
          props.setWindows((list) => [...list, w]);
          setTitle('');
          setProblem(null);
        },
        (err: Error) => setProblem(err.message),
      );
  };
  const remove = (id: string) =>
    api.deleteWindow(id).then(
      () => props.setWindows((list) => list.filter((w) => w.id !== id)),
      (err: Error) => setProblem(err.message),
    );

  return (
    <>
      <h2 class="uptime-h2">Maintenance windows</h2>
      <p class="uptime-muted">
        Checks still run in a window, but open no incident, send no alert and do not count toward uptime.
      </p>
      <form class="site-form" onSubmit={add} data-testid="window-form">
        <Field label="Title" testid="window-title" required value={title} onValue={setTitle} />
        <Field
          label="Tags (empty with no targets: every target)"
          testid="window-tags"
          value={tags}
          onValue={setTags}
        />
        <Field label="Targets" testid="window-targets" value={targets} onValue={setTargets} />
        <label class="site-check">
          <input
            type="checkbox"
            data-testid="window-recurring"
            checked={recurring}
            onChange={(e) => setRecurring((e.target as HTMLInputElement).checked)}
          />
          Recurring
        </label>
        <Field label="Start" testid="window-start" type="datetime-local" value={start} onValue={setStart} />
        {recurring ? (
          <>
            <Field label="Repeats (RRULE)" testid="window-rrule" value={rrule} onValue={setRrule} />
            <Field
              label="Lasts (minutes)"
              testid="window-duration"
              type="number"
              value={duration}
              onValue={setDuration}
            />
          </>
        ) : (
          <Field label="End" testid="window-end" type="datetime-local" value={end} onValue={setEnd} />
        )}
        <Field label="Time zone" testid="window-zone" value={zone} onValue={setZone} />
        <button type="submit" class="button button--primary" data-testid="window-add">
          Add window
        </button>
      </form>
      <Problem text={problem} testid="window-problem" />
      <WindowTable windows={props.windows} onDelete={(id) => void remove(id)} />
    </>
  );
}

/** Maintenance windows with their schedule and next occurrence; the target page shows the same. */
export function WindowTable({
  windows,
  onDelete,
}: {
  windows: readonly MaintenanceView[];
  onDelete?: (id: string) => void;
}) {
  if (windows.length === 0)
    return (
      <p class="uptime-muted" data-testid="windows-empty">
        No maintenance windows.
      </p>
    );
  return (
    <table class="uptime-table" data-testid="window-list">
      <tbody>
        {windows.map((w) => (
          <tr key={w.id} data-testid="window-row" data-id={w.id}>
            <td>
              <strong>{w.title}</strong>{' '}
              {w.active && (
                <span class="pill uptime-state uptime-state--maintenance" data-testid="window-active">
                  in force
                </span>
              )}
              <div class="uptime-url">
                {w.rrule
                  ? `${w.rrule} for ${w.durationMinutes} min from ${w.start}`
                  : `${w.start} to ${w.end ?? ''}`}{' '}
                ({w.timeZone})
              </div>
            </td>
            <td data-testid="window-next">
              {w.next
                ? `${formatDateTime(Date.parse(w.next.start))} – ${formatDateTime(Date.parse(w.next.end))}`
                : 'over'}
            </td>
            {onDelete && (
              <td class="site-actions">
                <DeleteButton source={w.source} testid="window-delete" onClick={() => onDelete(w.id)} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
