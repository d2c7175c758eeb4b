import { channelInvalid } from '../channel-url.ts';
import { clip, exchange, type Provider } from './provider.ts';

export interface PushoverConfig {
  readonly user: string;
  readonly token: string;
  readonly devices: readonly string[];
}

const KEY = /^[A-Za-z0-9]{30}$/;
const PRIORITY = { critical: 1, warning: 0, info: 0, ok: -1 } as const;

/** `pover://UserKey@AppToken[/Device…]`: Pushover's messages API. */
export const pushover: Provider<PushoverConfig> = {
  kind: 'pushover',
  label: 'Pushover',
  schemes: ['pover'],
  groups: true,
  parse(url) {
    if (!url.user || !KEY.test(url.user) || !KEY.test(url.host))
      throw channelInvalid('write pover://UserKey@AppToken (each 30 letters and digits)');
    for (const d of url.segments)
      if (!/^[A-Za-z0-9_-]{1,25}$/.test(d)) throw channelInvalid(`"${d}" is not a device name`);
    return { user: url.user, token: url.host, devices: url.segments };
  },
  describe: (c) => `Pushover${c.devices.length > 0 ? ` to ${c.devices.join(', ')}` : ' to all devices'}`,
  secrets: (c) => [c.user, c.token],
  send: (c, message, context) => {
    const form = new URLSearchParams({
      token: c.token,
      user: c.user,
      title: clip(message.title, 250),
      message: clip(message.text, 1024),
      priority: String(PRIORITY[message.severity]),
      timestamp: String(Math.floor(message.at / 1000)),
    });
    if (c.devices.length > 0) form.set('device', c.devices.join(','));
    if (message.link) {
      form.set('url', message.link);
      form.set('url_title', 'Open in Beacon');
    }
    return exchange(
      {
        method: 'POST',
        url: `${context.origin('pushover', 'https://api.pushover.net')}/1/messages.json`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      },
      context,
    );
  },
};
