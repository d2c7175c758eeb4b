import { channelInvalid, flag, origin } from '../channel-url.ts';
import type { Notification } from '../notification.ts';
import { exchange, type Message, type Provider } from './provider.ts';

/** A JSON webhook: where to POST, with which headers, and the body's shape. */
export interface WebhookConfig {
  readonly url: string;
  readonly method: 'POST' | 'PUT';
  readonly headers: Readonly<Record<string, string>>;
  /** `:key=value` query parameters: set on the default body's top level. */
  readonly extra: Readonly<Record<string, string>>;
  /** The channel's template, parsed; undefined sends the default body. */
  readonly template: unknown;
  readonly insecure: boolean;
  readonly secrets: readonly string[];
  readonly shown: string;
}

/** A notification as the webhook body lists it. */
const itemJson = (n: Notification) => ({
  source: n.source,
  subject: n.subject,
  event: n.event,
  severity: n.severity,
  action: n.action,
  dedupKey: n.dedupKey,
  title: n.title,
  text: n.text,
  fields: n.fields,
  link: n.link ?? null,
  at: new Date(n.at).toISOString(),
});

/** The values `{{name}}` stands for in a template. */
function variables(message: Message): Record<string, string> {
  const first = message.items[0];
  return {
    title: message.title,
    text: message.text,
    severity: message.severity,
    action: message.action,
    dedupKey: message.dedupKey,
    event: message.items.length === 1 && first ? first.event : 'digest',
    source: first?.source ?? '',
    subject: message.items.length === 1 && first ? first.subject : '',
    link: message.link ?? '',
    at: new Date(message.at).toISOString(),
    count: String(message.items.length),
  };
}

/**
 * Fills a template: a JSON value whose strings may hold `{{title}}`, `{{text}}`, `{{severity}}`,
 * `{{action}}`, `{{event}}`, `{{source}}`, `{{subject}}`, `{{dedupKey}}`, `{{link}}`, `{{at}}` and
 * `{{count}}`; a string that is exactly `"{{items}}"` becomes the array of notifications. Working
 * on the parsed value, not the text, no value can break the JSON it is put into.
 */
export function renderTemplate(template: unknown, message: Message): unknown {
  const values = variables(message);
  const fill = (node: unknown): unknown => {
    if (typeof node === 'string') {
      if (node === '{{items}}') return message.items.map(itemJson);
      return node.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
    }
    if (Array.isArray(node)) return node.map(fill);
    if (typeof node === 'object' && node !== null)
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v)]));
    return node;
  };
  return fill(template);
}

/** The body sent without a template. */
export const defaultBody = (message: Message) => ({
  version: 1,
  title: message.title,
  text: message.text,
  severity: message.severity,
  action: message.action,
  dedupKey: message.dedupKey,
  fields: message.fields,
  link: message.link ?? null,
  at: new Date(message.at).toISOString(),
  count: message.items.length,
  items: message.items.map(itemJson),
});

/** `json://` and `jsons://` (TLS): any HTTP endpoint that takes JSON, with an optional template. */
export const webhook: Provider<WebhookConfig> = {
  kind: 'webhook',
  label: 'Webhook (JSON)',
  schemes: ['json', 'jsons'],
  groups: true,
  parse(url, address) {
    const base = origin(url.scheme === 'jsons', url.host, url.port);
    const path = url.segments.map(encodeURIComponent).join('/');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const extra: Record<string, string> = {};
    const secrets: string[] = [];
    let method: 'POST' | 'PUT' = 'POST';
    for (const [key, value] of url.params) {
      if (key.startsWith('-') && key.length > 1) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key.slice(1)))
          throw channelInvalid(`"${key.slice(1)}" is not a header name`);
        headers[key.slice(1).toLowerCase()] = value;
        secrets.push(value);
      } else if (key.startsWith(':') && key.length > 1) extra[key.slice(1)] = value;
      else if (key === 'method') {
        const m = value.toUpperCase();
        if (m !== 'POST' && m !== 'PUT') throw channelInvalid('method must be POST or PUT');
        method = m;
      } else if (key !== 'verify') throw channelInvalid(`unknown parameter ${key}`);
    }
    if (url.user !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${url.user}:${url.password ?? ''}`).toString('base64')}`;
      if (url.password) secrets.push(url.password);
    }
    // Hooks often carry their secret in the path; long segments are treated as one.
    secrets.push(...url.segments.filter((s) => s.length >= 8));
    let template: unknown;
    if (address.template !== undefined) {
      try {
        template = JSON.parse(address.template);
      } catch (err) {
        throw channelInvalid(`the template is not JSON: ${(err as Error).message}`);
      }
    }
    return {
      url: `${base}/${path}`,
      method,
      headers,
      extra,
      template,
      insecure: !flag(url.params, 'verify', true),
      secrets,
      shown: `${method} ${base}${path ? '/…' : '/'}`,
    };
  },
  describe: (config) => config.shown,
  secrets: (config) => config.secrets,
  send: (config, message, context) => {
    const body =
      config.template === undefined
        ? { ...defaultBody(message), ...config.extra }
        : renderTemplate(config.template, message);
    return exchange(
      {
        method: config.method,
        url: config.url,
        headers: config.headers,
        body: JSON.stringify(body),
        insecure: config.insecure,
      },
      context,
    );
  },
};
