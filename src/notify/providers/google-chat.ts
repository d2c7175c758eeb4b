import { channelInvalid } from '../channel-url.ts';
import { clip, exchange, fieldLines, type Provider } from './provider.ts';

export interface GoogleChatConfig {
  readonly space: string;
  readonly key: string;
  readonly token: string;
}

/** `gchat://Space/Key/Token`, the parts of a Chat space's incoming-webhook URL. */
export const googleChat: Provider<GoogleChatConfig> = {
  kind: 'gchat',
  label: 'Google Chat',
  schemes: ['gchat'],
  groups: true,
  parse(url) {
    const [key, token] = url.segments;
    if (!url.host || !key || !token || url.segments.length !== 2)
      throw channelInvalid(
        'write gchat://Space/Key/Token from the webhook URL (spaces/Space/messages?key=Key&token=Token)',
      );
    return { space: url.host, key, token };
  },
  describe: (c) => `Google Chat space ${c.space}`,
  secrets: (c) => [c.key, c.token],
  send: (c, message, context) => {
    const fields = fieldLines(message);
    const query = new URLSearchParams({ key: c.key, token: c.token });
    const text = `*${message.title}*\n${message.text}${fields ? `\n\n${fields}` : ''}${message.link ? `\n<${message.link}|Open in Beacon>` : ''}`;
    return exchange(
      {
        method: 'POST',
        url: `${context.origin('gchat', 'https://chat.googleapis.com')}/v1/spaces/${encodeURIComponent(c.space)}/messages?${query}`,
        headers: { 'content-type': 'application/json; charset=UTF-8' },
        body: JSON.stringify({ text: clip(text, 4000) }),
      },
      context,
    );
  },
};
