import { channelInvalid } from '../channel-url.ts';
import { clip, exchange, type Provider } from './provider.ts';

/** Who Opsgenie pages: `@user`, `#team`, `*schedule`, `^escalation` in the URL, as Apprise writes them. */
type Responder =
  | { readonly type: 'user'; readonly username: string }
  | { readonly type: 'team' | 'schedule' | 'escalation'; readonly name: string };

export interface OpsgenieConfig {
  readonly apiKey: string;
  readonly region: 'us' | 'eu';
  readonly responders: readonly Responder[];
}

const PRIORITY = { critical: 'P1', warning: 'P3', info: 'P5', ok: 'P5' } as const;
const ORIGINS = { us: 'https://api.opsgenie.com', eu: 'https://api.eu.opsgenie.com' } as const;

function responder(part: string): Responder {
  const name = part.slice(1);
  if (!name) throw channelInvalid(`"${part}" names no one`);
  switch (part[0]) {
    case '@':
      return { type: 'user', username: name };
    case '#':
      return { type: 'team', name };
    case '*':
      return { type: 'schedule', name };
    case '^':
      return { type: 'escalation', name };
    default:
      throw channelInvalid(
        `"${part}": start a responder with @ (user), # (team), * (schedule) or ^ (escalation)`,
      );
  }
}

/**
 * `opsgenie://ApiKey[/@user][/#team]…[?region=eu]`: the Alert API. A trigger creates the alert whose
 * alias is the dedup key (Opsgenie folds repeats into it); a resolve closes it by alias.
 */
export const opsgenie: Provider<OpsgenieConfig> = {
  kind: 'opsgenie',
  label: 'Opsgenie',
  schemes: ['opsgenie'],
  groups: false,
  parse(url) {
    if (!/^[A-Za-z0-9-]{20,64}$/.test(url.host))
      throw channelInvalid("write opsgenie://ApiKey (the integration's API key)");
    const region = url.params.get('region') ?? 'us';
    if (region !== 'us' && region !== 'eu') throw channelInvalid('region must be us or eu');
    return { apiKey: url.host, region, responders: url.segments.map(responder) };
  },
  describe: (c) =>
    `Opsgenie (${c.region.toUpperCase()})${c.responders.length > 0 ? ` paging ${c.responders.map((r) => ('username' in r ? r.username : r.name)).join(', ')}` : ''}`,
  secrets: (c) => [c.apiKey],
  send: (c, message, context) => {
    const base = `${context.origin('opsgenie', ORIGINS[c.region])}/v2/alerts`;
    const headers = { 'content-type': 'application/json', authorization: `GenieKey ${c.apiKey}` };
    if (message.action === 'resolve') {
      return exchange(
        {
          method: 'POST',
          url: `${base}/${encodeURIComponent(clip(message.dedupKey, 512))}/close?identifierType=alias`,
          headers,
          body: JSON.stringify({ source: 'Beacon', note: clip(message.title, 25_000) }),
        },
        context,
      );
    }
    return exchange(
      {
        method: 'POST',
        url: base,
        headers,
        body: JSON.stringify({
          message: clip(message.title, 130),
          alias: clip(message.dedupKey, 512),
          description: clip(`${message.text}${message.link ? `\n\n${message.link}` : ''}`, 15_000),
          responders: c.responders,
          tags: ['beacon', message.items[0]?.event ?? 'digest'],
          details: message.fields,
          entity: message.items[0]?.subject ?? '',
          source: 'Beacon',
          priority: PRIORITY[message.severity],
        }),
      },
      context,
    );
  },
};
