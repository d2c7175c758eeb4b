import { useState } from 'preact/hooks';
import { ApiError, type Api } from './api.ts';
import {
  checkNow,
  KINDS,
  specOfView,
  stateOf,
  type CheckPreview,
  type Kind,
  type TargetView,
} from './uptime-api.ts';

/** How a field is edited: text, a number, a checkbox, a comma list, a choice, or `Name: value` lines. */
type FieldType = 'text' | 'number' | 'bool' | 'list' | 'select' | 'headers' | 'textarea';

interface FieldDef {
  readonly key: string;
  readonly label: string;
  readonly type: FieldType;
  /** The kinds that have it; every kind when absent. */
  readonly kinds?: readonly Kind[];
  readonly options?: readonly string[];
  readonly placeholder?: string;
}

const FIELDS: readonly FieldDef[] = [
  { key: 'name', label: 'Name', type: 'text' },
  { key: 'url', label: 'URL', type: 'text', kinds: ['http'], placeholder: 'https://example.com/health' },
  {
    key: 'method',
    label: 'Method',
    type: 'select',
    kinds: ['http'],
    options: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  },
  { key: 'expectStatus', label: 'Expected statuses', type: 'list', kinds: ['http'], placeholder: '200-399' },
  { key: 'pattern', label: 'Body pattern (RE2)', type: 'text', kinds: ['http'] },
  { key: 'patternMustMatch', label: 'Pattern must match', type: 'bool', kinds: ['http'] },
  { key: 'headers', label: 'Headers (Name: value per line)', type: 'headers', kinds: ['http'] },
  { key: 'body', label: 'Request body', type: 'textarea', kinds: ['http'] },
  { key: 'maxRedirects', label: 'Redirects to follow', type: 'number', kinds: ['http'] },
  { key: 'host', label: 'Host', type: 'text', kinds: ['tcp', 'icmp'], placeholder: 'db.example.com' },
  { key: 'port', label: 'Port', type: 'number', kinds: ['tcp'] },
  { key: 'tls', label: 'TLS handshake', type: 'bool', kinds: ['tcp'] },
  { key: 'servername', label: 'TLS server name', type: 'text', kinds: ['tcp'] },
  { key: 'ignoreTlsErrors', label: 'Ignore TLS errors', type: 'bool', kinds: ['http', 'tcp'] },
  { key: 'query', label: 'Name to look up', type: 'text', kinds: ['dns'] },
  {
    key: 'recordType',
    label: 'Record type',
    type: 'select',
    kinds: ['dns'],
    options: ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SOA', 'SRV', 'CAA'],
  },
  { key: 'resolver', label: 'Resolver', type: 'text', kinds: ['dns'], placeholder: 'system resolver' },
  { key: 'expect', label: 'Expected values', type: 'list', kinds: ['dns'] },
  { key: 'expectExact', label: 'Exactly these values', type: 'bool', kinds: ['dns'] },
  { key: 'packets', label: 'Echo requests', type: 'number', kinds: ['icmp'] },
  { key: 'graceSeconds', label: 'Grace (s)', type: 'number', kinds: ['push'] },
  { key: 'pushToken', label: 'Push token', type: 'text', kinds: ['push'], placeholder: 'generated' },
  { key: 'intervalSeconds', label: 'Interval (s)', type: 'number' },
  { key: 'timeoutMs', label: 'Timeout (ms)', type: 'number' },
  { key: 'degradedAboveMs', label: 'Degraded above (ms)', type: 'number' },
  { key: 'downAfter', label: 'Down after (failures)', type: 'number' },
  { key: 'upAfter', label: 'Up after (successes)', type: 'number' },
  { key: 'tags', label: 'Tags', type: 'list', placeholder: 'web, eu' },
  { key: 'paused', label: 'Paused', type: 'bool' },
];

const fieldsOf = (kind: Kind) => FIELDS.filter((f) => !f.kinds || f.kinds.includes(kind));

/** The form's values: text for every field, booleans for checkboxes. */
type FormValues = Record<string, string | boolean>;

function formOf(t: TargetView | undefined): FormValues {
  const values: FormValues = {};
  if (!t) return { intervalSeconds: '60', patternMustMatch: true };
  const spec = t as unknown as Record<string, unknown>;
  for (const f of FIELDS) {
    const v = spec[f.key];
    if (v === undefined || v === null) continue;
    if (f.type === 'bool') values[f.key] = v === true;
    else if (f.type === 'list') values[f.key] = (v as string[]).join(', ');
    else if (f.type === 'headers')
      values[f.key] = Object.entries(v as Record<string, string>)
        .map(([k, h]) => `${k}: ${h}`)
        .join('\n');
    else values[f.key] = `${v as string | number}`;
  }
  return values;
}

/**
 * The API body of the form: fields left empty are left out (create: the server's defaults) or
 * cleared with null (edit). A number that does not parse goes as typed, so the server names it.
 */
function bodyOf(values: FormValues, kind: Kind, editing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { kind };
  for (const f of fieldsOf(kind)) {
    const v = values[f.key];
    if (f.type === 'bool') {
      if (v !== undefined) body[f.key] = v === true;
      continue;
    }
    const text = typeof v === 'string' ? v.trim() : '';
    if (text === '') {
      if (editing) body[f.key] = null;
      continue;
    }
    if (f.type === 'number') body[f.key] = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    else if (f.type === 'list')
      body[f.key] = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (f.type === 'headers')
      body[f.key] = Object.fromEntries(
        text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => {
            const at = line.indexOf(':');
            return at < 0 ? [line.trim(), ''] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
          }),
      );
    else body[f.key] = text;
  }
  return body;
}

/** The API's TARGET_INVALID message (`field message; field message`) as messages by field. */
function problemsOf(err: unknown): { byField: Record<string, string>; other: string | null } {
  if (!(err instanceof ApiError)) return { byField: {}, other: (err as Error).message };
  if (err.code !== 'TARGET_INVALID') return { byField: {}, other: err.message };
  const byField: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of err.message.split('; ')) {
    const m = /^([A-Za-z]+)(\S*) (.*)$/.exec(part);
    if (m && (m[1] === 'id' || FIELDS.some((f) => f.key === m[1]))) {
      byField[m[1]!] = [byField[m[1]!], `${m[1]}${m[2]} ${m[3]}`].filter(Boolean).join('; ');
    } else rest.push(part);
  }
  return { byField, other: rest.length > 0 ? rest.join('; ') : null };
}

/** A check-now outcome in a line or two. */
function Preview({ check }: { check: CheckPreview }) {
  const p = check.phases;
  return (
    <div
      class={`check-preview check-preview--${stateOf(check)}`}
      data-testid="check-result"
      data-state={stateOf(check)}
    >
      <strong>{stateOf(check)}</strong> in {Math.round(check.durationMs)} ms
      {check.status !== null && <> · status {check.status}</>}
      {check.patternMatched !== null && <> · pattern {check.patternMatched ? 'matched' : 'not matched'}</>}
      {check.error && (
        <>
          {' '}
          · {check.error.class}: {check.error.detail}
        </>
      )}
      <div class="uptime-url">
        DNS {p.dnsMs.toFixed(1)} · connect {p.connectMs.toFixed(1)} · TLS {p.tlsMs.toFixed(1)} · TTFB{' '}
        {p.ttfbMs.toFixed(1)} · transfer {p.transferMs.toFixed(1)} ms
      </div>
    </div>
  );
}

/**
 * Creates a target (or a clone: `initial` with `mode: 'create'`) or edits one. Errors are the API's
 * own validation, shown beside the field they name; "Check now" runs one real check of the form's
 * spec without saving it.
 */
export function TargetForm(props: {
  readonly api: Api;
  readonly mode: 'create' | 'edit';
  readonly initial?: TargetView;
  /** A clone's id suggestion. */
  readonly id?: string;
  readonly onSaved: (id: string) => void;
  readonly onCancel: () => void;
}) {
  const { api, mode, initial } = props;
  const editing = mode === 'edit';
  const [kind, setKind] = useState<Kind>(initial?.kind ?? 'http');
  const [id, setId] = useState(props.id ?? (editing ? (initial?.id ?? '') : ''));
  const [values, setValues] = useState<FormValues>(() => formOf(initial));
  const [problems, setProblems] = useState<{ byField: Record<string, string>; other: string | null }>({
    byField: {},
    other: null,
  });
  const [preview, setPreview] = useState<CheckPreview | null>(null);
  const [busy, setBusy] = useState<'check' | 'save' | null>(null);

  const set = (key: string, value: string | boolean) => setValues((v) => ({ ...v, [key]: value }));

  /** The whole spec: on edit, the stored one (assertions…) under the form's changes. */
  const fullSpec = () => {
    const base = editing && initial ? specOfView(initial) : {};
    const merged: Record<string, unknown> = { ...base, ...bodyOf(values, kind, editing) };
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    if (id.trim() !== '') merged.id = id.trim();
    else delete merged.id;
    return merged;
  };

  const run = async (what: 'check' | 'save') => {
    setBusy(what);
    setProblems({ byField: {}, other: null });
    try {
      if (what === 'check') {
        setPreview(await checkNow(api, fullSpec()));
      } else if (editing) {
        await api.send('PATCH', `/v1/targets/${encodeURIComponent(initial!.id)}`, bodyOf(values, kind, true));
        props.onSaved(initial!.id);
      } else {
        const body = bodyOf(values, kind, false);
        const created = (await api.send(
          'POST',
          '/v1/targets',
          id.trim() ? { id: id.trim(), ...body } : body,
        )) as {
          id: string;
        };
        props.onSaved(created.id);
      }
    } catch (err) {
      setProblems(problemsOf(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <form
      class="target-form"
      data-testid="target-form"
      onSubmit={(e) => {
        e.preventDefault();
        void run('save');
      }}
    >
      <h2 class="uptime-h2">{editing ? `Edit ${initial?.id ?? ''}` : 'New target'}</h2>
      <div class="target-form-grid">
        <label class="field">
          <span class="field-label">Id</span>
          <input
            class="input"
            name="id"
            value={id}
            disabled={editing}
            placeholder="chosen by the server"
            aria-invalid={problems.byField.id ? 'true' : undefined}
            onInput={(e) => setId(e.currentTarget.value)}
          />
          {problems.byField.id && (
            <span class="field-error" data-field-error="id">
              {problems.byField.id}
            </span>
          )}
        </label>
        <label class="field">
          <span class="field-label">Kind</span>
          <select
            class="input"
            name="kind"
            value={kind}
            disabled={editing}
            onChange={(e) => setKind(e.currentTarget.value as Kind)}
          >
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        {fieldsOf(kind).map((f) => {
          const v = values[f.key];
          const error = problems.byField[f.key];
          const invalid = error ? 'true' : undefined;
          return (
            <label class={`field${f.type === 'bool' ? ' field--check' : ''}`} key={f.key}>
              <span class="field-label">{f.label}</span>
              {f.type === 'bool' ? (
                <input
                  type="checkbox"
                  name={f.key}
                  checked={v === true}
                  onChange={(e) => set(f.key, e.currentTarget.checked)}
                />
              ) : f.type === 'select' ? (
                <select
                  class="input"
                  name={f.key}
                  value={typeof v === 'string' ? v : ''}
                  onChange={(e) => set(f.key, e.currentTarget.value)}
                >
                  <option value="">default</option>
                  {f.options!.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : f.type === 'headers' || f.type === 'textarea' ? (
                <textarea
                  class="input"
                  name={f.key}
                  rows={2}
                  value={typeof v === 'string' ? v : ''}
                  aria-invalid={invalid}
                  onInput={(e) => set(f.key, e.currentTarget.value)}
                />
              ) : (
                <input
                  class="input"
                  name={f.key}
                  value={typeof v === 'string' ? v : ''}
                  placeholder={f.placeholder}
                  inputMode={f.type === 'number' ? 'numeric' : undefined}
                  aria-invalid={invalid}
                  onInput={(e) => set(f.key, e.currentTarget.value)}
                />
              )}
              {error && (
                <span class="field-error" data-field-error={f.key}>
                  {error}
                </span>
              )}
            </label>
          );
        })}
      </div>
      {problems.other && (
        <div class="notice notice--error" data-testid="form-error">
          {problems.other}
        </div>
      )}
      {preview && <Preview check={preview} />}
      <div class="target-form-actions">
        <button type="button" class="button" disabled={busy !== null} onClick={() => void run('check')}>
          {busy === 'check' ? 'Checking…' : 'Check now'}
        </button>
        <button type="submit" class="button button--primary" disabled={busy !== null}>
          {editing ? 'Save' : 'Create'}
        </button>
        <button type="button" class="button button--quiet" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
