import type { ChannelUrl } from '../channel-url.ts';
import { httpRequest, type HttpAnswer, type HttpRequest } from '../http-client.ts';
import type { Action, Notification, Severity } from '../notification.ts';

/** What one send carries: one notification, or several grouped into one message. */
export interface Message {
  /** Unique per send attempt's content; services that deduplicate by an id (Matrix) get it. */
  readonly id: string;
  readonly title: string;
  readonly text: string;
  readonly severity: Severity;
  readonly action: Action;
  readonly dedupKey: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly link?: string;
  readonly at: number;
  /** The notifications it tells of, oldest first. */
  readonly items: readonly Notification[];
}

/** How a send ended. `retry` false means trying again cannot help (a bad token, a deleted channel). */
export type Outcome =
  | { readonly ok: true; readonly status: number | null; readonly answer: string }
  | {
      readonly ok: false;
      readonly retry: boolean;
      /** The service's own wait (429 Retry-After and the like). */
      readonly retryAfterMs?: number;
      readonly status: number | null;
      readonly answer: string;
    };

/** What a send may use besides the channel and the message. */
export interface SendContext {
  readonly timeoutMs: number;
  /**
   * The origin to use for a hosted service (`https://hooks.slack.com`): the operator's override from
   * `notify.serviceUrls` (a regional endpoint, a proxy), or the service's own.
   */
  origin(kind: string, standard: string): string;
}

/** A channel's address as stored: its URL and, for webhooks, the body template. */
export interface ChannelAddress {
  readonly url: string;
  readonly template?: string | undefined;
}

/**
 * One kind of channel: how its URL is read, described without secrets, and sent to. Every service
 * Beacon talks to is one file under `providers/`.
 */
export interface Provider<C> {
  /** Stable name (`slack`), stored with the channel and shown in the API. */
  readonly kind: string;
  readonly label: string;
  readonly schemes: readonly string[];
  /**
   * False for services that keep one alert per key (PagerDuty, Opsgenie): each notification goes
   * alone, so its trigger and its resolve meet. True: several due at once go as one message.
   */
  readonly groups: boolean;
  /** Reads a URL of one of `schemes`; throws CHANNEL_INVALID naming the part that is wrong. */
  parse(url: ChannelUrl, address: ChannelAddress): C;
  /** What the channel sends to, safe to show anyone who may read it: never a token or password. */
  describe(config: C): string;
  /** Every secret in the configuration, scrubbed from whatever is stored or logged. */
  secrets(config: C): readonly string[];
  send(config: C, message: Message, context: SendContext): Promise<Outcome>;
}

/** Seconds or an HTTP date in a Retry-After header, as milliseconds from now. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The answer's text as kept in the delivery history: short, on one line. */
export function answerText(answer: HttpAnswer | string): string {
  const text = typeof answer === 'string' ? answer : `${answer.status} ${answer.text}`;
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}

/**
 * The usual reading of an HTTP answer: 2xx sent; 429 (with its Retry-After), 408, 425 and 5xx worth
 * another try; any other 4xx is the channel's fault and final.
 */
export function judge(answer: HttpAnswer): Outcome {
  const { status } = answer;
  if (status >= 200 && status < 300) return { ok: true, status, answer: answerText(answer) };
  const retry = status === 429 || status === 408 || status === 425 || status >= 500;
  const after = retryAfterMs(answer.headers['retry-after']);
  return {
    ok: false,
    retry,
    status,
    answer: answerText(answer),
    ...(retry && after !== undefined ? { retryAfterMs: after } : {}),
  };
}

/** A network failure (refused, reset, timed out, TLS): always worth another try. */
export function networkFailure(err: unknown): Outcome {
  const e = err as NodeJS.ErrnoException;
  return { ok: false, retry: true, status: null, answer: answerText(`${e.code ?? 'error'}: ${e.message}`) };
}

/** Sends `request` and reads the answer with `read` (default `judge`); network errors retry. */
export async function exchange(
  request: HttpRequest,
  context: SendContext,
  read: (answer: HttpAnswer) => Outcome = judge,
): Promise<Outcome> {
  let answer: HttpAnswer;
  try {
    answer = await httpRequest(request, context.timeoutMs);
  } catch (err) {
    return networkFailure(err);
  }
  return read(answer);
}

/** The answer parsed as JSON, or undefined. */
export function jsonOf(answer: HttpAnswer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(answer.text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The title and text as one block of plain text. */
export const plain = (message: Message): string => `${message.title}\n\n${message.text}`;

/** Text that may go into HTML (Telegram, Matrix, e-mail). */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** `text` cut to `max` characters, with an ellipsis when cut (services refuse longer ones). */
export const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** The message's fields as `name: value` lines. */
export const fieldLines = (message: Message): string =>
  Object.entries(message.fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
