import { channelInvalid, origin } from '../channel-url.ts';
import type { HttpAnswer } from '../http-client.ts';
import { clip, exchange, judge, type Outcome, type Provider } from './provider.ts';
import { SEVERITY_COLOURS } from './slack.ts';

export interface MattermostConfig {
  readonly url: string;
  readonly host: string;
  readonly token: string;
  readonly channel: string | undefined;
  readonly username: string | undefined;
}

/** Mattermost's 429 names when its window resets (`X-Ratelimit-Reset`, seconds) rather than Retry-After. */
function readAnswer(answer: HttpAnswer): Outcome {
  const outcome = judge(answer);
  if (outcome.ok || answer.status !== 429 || outcome.retryAfterMs !== undefined) return outcome;
  const reset = Number(answer.headers['x-ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? { ...outcome, retryAfterMs: reset * 1000 } : outcome;
}

/** `mmost://host[:port][/path]/WebhookToken` or `mmosts://…` (TLS): an incoming webhook. */
export const mattermost: Provider<MattermostConfig> = {
  kind: 'mattermost',
  label: 'Mattermost',
  schemes: ['mmost', 'mmosts'],
  groups: true,
  parse(url) {
    const token = url.segments.at(-1);
    if (!token || !/^[A-Za-z0-9]+$/.test(token)) throw channelInvalid('write mmost://host/WebhookToken');
    const base = origin(url.scheme === 'mmosts', url.host, url.port);
    const path = url.segments.slice(0, -1).map(encodeURIComponent).join('/');
    return {
      url: `${base}${path ? `/${path}` : ''}/hooks/${token}`,
      host: url.host,
      token,
      channel: url.params.get('channel') ?? undefined,
      username: url.params.get('botname') ?? undefined,
    };
  },
  describe: (c) => `Mattermost on ${c.host}${c.channel ? ` to ${c.channel}` : ''}`,
  secrets: (c) => [c.token],
  send: (c, message, context) =>
    exchange(
      {
        method: 'POST',
        url: c.url,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ...(c.channel ? { channel: c.channel } : {}),
          ...(c.username ? { username: c.username } : {}),
          text: clip(`#### ${message.title}\n${message.text}`, 16_000),
          attachments: [
            {
              color: SEVERITY_COLOURS[message.severity],
              fields: Object.entries(message.fields).map(([title, value]) => ({ title, value, short: true })),
              ...(message.link ? { title_link: message.link, title: 'Open in Beacon' } : {}),
            },
          ],
        }),
      },
      context,
      readAnswer,
    ),
};
