import { channelInvalid } from '../channel-url.ts';
import type { HttpAnswer } from '../http-client.ts';
import { clip, exchange, judge, jsonOf, type Outcome, type Provider } from './provider.ts';
import { SEVERITY_COLOURS } from './slack.ts';

export interface DiscordConfig {
  readonly id: string;
  readonly token: string;
  readonly username: string | undefined;
}

/** Discord's 429 says how long to wait in the body (`retry_after`, seconds) as well as the header. */
function readAnswer(answer: HttpAnswer): Outcome {
  const outcome = judge(answer);
  if (outcome.ok || answer.status !== 429 || outcome.retryAfterMs !== undefined) return outcome;
  const after = jsonOf(answer)?.retry_after;
  return typeof after === 'number' ? { ...outcome, retryAfterMs: Math.ceil(after * 1000) } : outcome;
}

/** `discord://WebhookID/WebhookToken`: a channel webhook, posting one embed. */
export const discord: Provider<DiscordConfig> = {
  kind: 'discord',
  label: 'Discord',
  schemes: ['discord'],
  groups: true,
  parse(url) {
    const token = url.segments[0];
    if (!/^[0-9]+$/.test(url.host) || !token || url.segments.length > 1)
      throw channelInvalid('write discord://WebhookID/WebhookToken from the webhook URL');
    return { id: url.host, token, username: url.params.get('botname') ?? undefined };
  },
  describe: (c) => `Discord webhook ${c.id}`,
  secrets: (c) => [c.token],
  send: (c, message, context) => {
    const color = Number.parseInt(SEVERITY_COLOURS[message.severity].slice(1), 16);
    const embed = {
      title: clip(message.title, 256),
      description: clip(message.text, 4096),
      color,
      timestamp: new Date(message.at).toISOString(),
      ...(message.link ? { url: message.link } : {}),
      fields: Object.entries(message.fields)
        .slice(0, 25)
        .map(([name, value]) => ({ name: clip(name, 256), value: clip(value || '–', 1024), inline: true })),
    };
    return exchange(
      {
        method: 'POST',
        url: `${context.origin('discord', 'https://discord.com')}/api/webhooks/${c.id}/${c.token}?wait=true`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...(c.username ? { username: c.username } : {}), embeds: [embed] }),
      },
      context,
      readAnswer,
    );
  },
};
