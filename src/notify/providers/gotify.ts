import { channelInvalid, origin } from '../channel-url.ts';
import { clip, exchange, fieldLines, type Provider } from './provider.ts';

export interface GotifyConfig {
  readonly url: string;
  readonly token: string;
  readonly host: string;
}

const PRIORITY = { critical: 8, warning: 5, info: 2, ok: 2 } as const;

/** `gotify://host[:port][/path]/AppToken` or `gotifys://…` (TLS): a Gotify server's message API. */
export const gotify: Provider<GotifyConfig> = {
  kind: 'gotify',
  label: 'Gotify',
  schemes: ['gotify', 'gotifys'],
  groups: true,
  parse(url) {
    const token = url.segments.at(-1);
    if (!token || !/^[A-Za-z0-9._-]+$/.test(token)) throw channelInvalid('write gotify://host/AppToken');
    const base = origin(url.scheme === 'gotifys', url.host, url.port);
    const path = url.segments.slice(0, -1).map(encodeURIComponent).join('/');
    return { url: `${base}${path ? `/${path}` : ''}/message`, token, host: url.host };
  },
  describe: (c) => `Gotify on ${c.host}`,
  secrets: (c) => [c.token],
  send: (c, message, context) => {
    const fields = fieldLines(message);
    return exchange(
      {
        method: 'POST',
        url: c.url,
        headers: { 'content-type': 'application/json', 'x-gotify-key': c.token },
        body: JSON.stringify({
          title: clip(message.title, 250),
          message: clip(fields ? `${message.text}\n\n${fields}` : message.text, 10_000),
          priority: PRIORITY[message.severity],
          extras: {
            'client::display': { contentType: 'text/plain' },
            ...(message.link ? { 'client::notification': { click: { url: message.link } } } : {}),
          },
        }),
      },
      context,
    );
  },
};
