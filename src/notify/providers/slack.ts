import { channelInvalid } from '../channel-url.ts';
import type { Severity } from '../notification.ts';
import type { HttpAnswer } from '../http-client.ts';
import {
  answerText,
  clip,
  exchange,
  judge,
  jsonOf,
  retryAfterMs,
  type Message,
  type Outcome,
  type Provider,
} from './provider.ts';

/** An incoming webhook (three tokens) or a bot token with a channel to post to. */
export type SlackConfig =
  | {
      readonly mode: 'webhook';
      readonly tokens: readonly [string, string, string];
      readonly channel?: string;
    }
  | { readonly mode: 'bot'; readonly token: string; readonly channel: string };

/** Colours for the severity bar, shared by the services that take one. */
export const SEVERITY_COLOURS: Readonly<Record<Severity, string>> = {
  critical: '#d92d20',
  warning: '#c47f00',
  info: '#2f6fed',
  ok: '#12a150',
};

/** Slack's Block Kit for a message: a header, the text, its fields, and the link. */
export function slackBlocks(message: Message) {
  const fields = Object.entries(message.fields).slice(0, 10);
  return [
    { type: 'header', text: { type: 'plain_text', text: clip(message.title, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(message.text, 3000) } },
    ...(fields.length > 0
      ? [
          {
            type: 'section',
            fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${k}*\n${v}`, 2000) })),
          },
        ]
      : []),
    ...(message.link
      ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `<${message.link}|Open in Beacon>` }] }]
      : []),
  ];
}

/** Web API errors that pass: Slack's own trouble, or its rate limit. */
const TRANSIENT = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** chat.postMessage answers 200 with `{ok: false, error}` for most failures. */
function readBotAnswer(answer: HttpAnswer): Outcome {
  if (answer.status !== 200) return judge(answer);
  const body = jsonOf(answer);
  if (body?.ok === true) return { ok: true, status: 200, answer: answerText(answer) };
  const error = typeof body?.error === 'string' ? body.error : 'unknown_error';
  const after = retryAfterMs(answer.headers['retry-after']);
  return {
    ok: false,
    retry: TRANSIENT.has(error),
    status: 200,
    answer: answerText(answer),
    ...(after === undefined ? {} : { retryAfterMs: after }),
  };
}

/**
 * `slack://TokenA/TokenB/TokenC[/#channel]`: an incoming webhook (hooks.slack.com/services/A/B/C);
 * `slack://xoxb-…/#channel`: a bot token posting with chat.postMessage.
 */
export const slack: Provider<SlackConfig> = {
  kind: 'slack',
  label: 'Slack',
  schemes: ['slack'],
  groups: true,
  parse(url) {
    const parts = [url.host, ...url.segments];
    const channel = parts.find((p) => p.startsWith('#') || p.startsWith('@'));
    const tokens = parts.filter((p) => p !== channel);
    if (/^xox[bp]-/.test(url.host)) {
      if (!channel) throw channelInvalid('a Slack bot token needs a #channel to post to');
      return { mode: 'bot', token: url.host, channel };
    }
    if (tokens.length !== 3 || tokens.some((t) => !/^[A-Za-z0-9]+$/.test(t)))
      throw channelInvalid(
        'write slack://TokenA/TokenB/TokenC from the webhook URL, or slack://xoxb-token/#channel',
      );
    return { mode: 'webhook', tokens: tokens as [string, string, string], ...(channel ? { channel } : {}) };
  },
  describe: (c) =>
    c.mode === 'bot'
      ? `Slack bot posting to ${c.channel}`
      : `Slack incoming webhook (${c.tokens[0]})${c.channel ? ` to ${c.channel}` : ''}`,
  secrets: (c) => (c.mode === 'bot' ? [c.token] : [c.tokens[2]]),
  send: (c, message, context) => {
    const body = {
      text: clip(`${message.title}\n${message.text}`, 3000),
      blocks: slackBlocks(message),
      ...(c.channel ? { channel: c.channel } : {}),
    };
    if (c.mode === 'bot') {
      return exchange(
        {
          method: 'POST',
          url: `${context.origin('slack', 'https://slack.com')}/api/chat.postMessage`,
          headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${c.token}` },
          body: JSON.stringify(body),
        },
        context,
        readBotAnswer,
      );
    }
    return exchange(
      {
        method: 'POST',
        url: `${context.origin('slack', 'https://hooks.slack.com')}/services/${c.tokens.join('/')}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      context,
    );
  },
};
