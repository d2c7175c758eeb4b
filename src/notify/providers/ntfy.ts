import { channelInvalid, origin } from '../channel-url.ts';
import { clip, exchange, type Provider } from './provider.ts';

export interface NtfyConfig {
  /** Undefined: the public ntfy.sh (or `notify.serviceUrls.ntfy`). */
  readonly origin: string | undefined;
  readonly topic: string;
  readonly authorization: string | undefined;
  readonly secret: string | undefined;
  readonly priority: number | undefined;
}

const PRIORITY = { critical: 5, warning: 4, info: 3, ok: 3 } as const;
const TAGS = {
  critical: 'rotating_light',
  warning: 'warning',
  info: 'information_source',
  ok: 'white_check_mark',
} as const;
const TOPIC = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `ntfy://topic` (ntfy.sh), `ntfy://[user:password@]host[:port]/topic` or `ntfys://…` (TLS) for a
 * server of your own; `?token=tk_…` for an access token. Publishes as JSON to the server's root.
 */
export const ntfy: Provider<NtfyConfig> = {
  kind: 'ntfy',
  label: 'ntfy',
  schemes: ['ntfy', 'ntfys'],
  groups: true,
  parse(url) {
    const own = url.segments.length > 0;
    const topic = own ? url.segments[0]! : url.host;
    if (!TOPIC.test(topic) || url.segments.length > 1)
      throw channelInvalid('name one topic: letters, digits, _ and -');
    const token = url.params.get('token');
    const priority = url.params.get('priority');
    if (priority !== null && !/^[1-5]$/.test(priority)) throw channelInvalid('priority must be 1 to 5');
    return {
      origin: own ? origin(url.scheme === 'ntfys', url.host, url.port) : undefined,
      topic,
      authorization: token
        ? `Bearer ${token}`
        : url.user !== undefined
          ? `Basic ${Buffer.from(`${url.user}:${url.password ?? ''}`).toString('base64')}`
          : undefined,
      secret: token ?? url.password,
      priority: priority === null ? undefined : Number(priority),
    };
  },
  describe: (c) => `ntfy topic ${c.topic}${c.origin ? ` on ${c.origin}` : ''}`,
  secrets: (c) => (c.secret ? [c.secret] : []),
  send: (c, message, context) =>
    exchange(
      {
        method: 'POST',
        url: `${c.origin ?? context.origin('ntfy', 'https://ntfy.sh')}/`,
        headers: {
          'content-type': 'application/json',
          ...(c.authorization ? { authorization: c.authorization } : {}),
        },
        body: JSON.stringify({
          topic: c.topic,
          title: clip(message.title, 250),
          message: clip(message.text, 4000),
          priority: c.priority ?? PRIORITY[message.severity],
          tags: [TAGS[message.severity]],
          ...(message.link ? { click: message.link } : {}),
        }),
      },
      context,
    ),
};
