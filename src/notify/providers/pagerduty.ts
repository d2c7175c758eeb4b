import { channelInvalid } from '../channel-url.ts';
import { clip, exchange, type Provider } from './provider.ts';

export interface PagerDutyConfig {
  readonly routingKey: string;
  readonly region: 'us' | 'eu';
  readonly source: string | undefined;
  readonly component: string | undefined;
  readonly group: string | undefined;
}

const SEVERITY = { critical: 'critical', warning: 'warning', info: 'info', ok: 'info' } as const;
const ORIGINS = { us: 'https://events.pagerduty.com', eu: 'https://events.eu.pagerduty.com' } as const;

/**
 * `pagerduty://IntegrationKey[?region=eu]`: Events API v2. A trigger opens (or updates) the alert of
 * its dedup key, a resolve closes it, so a target's down and up meet in one PagerDuty incident.
 * Apprise's `pagerduty://IntegrationKey@ApiKey` is read too; Events v2 needs only the integration key.
 */
export const pagerduty: Provider<PagerDutyConfig> = {
  kind: 'pagerduty',
  label: 'PagerDuty (Events v2)',
  schemes: ['pagerduty'],
  groups: false,
  parse(url) {
    const routingKey = url.user ?? url.host;
    if (!/^[A-Za-z0-9]{32}$/.test(routingKey))
      throw channelInvalid('write pagerduty://IntegrationKey (32 letters and digits)');
    const region = url.params.get('region') ?? 'us';
    if (region !== 'us' && region !== 'eu') throw channelInvalid('region must be us or eu');
    return {
      routingKey,
      region,
      source: url.params.get('source') ?? undefined,
      component: url.params.get('component') ?? undefined,
      group: url.params.get('group') ?? undefined,
    };
  },
  describe: (c) => `PagerDuty service (${c.region.toUpperCase()})`,
  secrets: (c) => [c.routingKey],
  send: (c, message, context) => {
    const first = message.items[0];
    const resolve = message.action === 'resolve';
    const event = {
      routing_key: c.routingKey,
      event_action: resolve ? 'resolve' : 'trigger',
      dedup_key: message.dedupKey,
      ...(resolve
        ? {}
        : {
            payload: {
              summary: clip(message.title, 1024),
              source: c.source ?? first?.subject ?? 'beacon',
              severity: SEVERITY[message.severity],
              timestamp: new Date(message.at).toISOString(),
              ...(c.component ? { component: c.component } : {}),
              ...(c.group ? { group: c.group } : {}),
              class: first?.event ?? 'beacon',
              custom_details: { text: message.text, ...message.fields },
            },
            client: 'Beacon',
            ...(message.link
              ? { client_url: message.link, links: [{ href: message.link, text: 'Open in Beacon' }] }
              : {}),
          }),
    };
    return exchange(
      {
        method: 'POST',
        url: `${context.origin('pagerduty', ORIGINS[c.region])}/v2/enqueue`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
      },
      context,
    );
  },
};
