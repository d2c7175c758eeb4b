import { channelInvalid, origin } from '../channel-url.ts';
import { clip, exchange, type Provider } from './provider.ts';

export interface TeamsConfig {
  readonly url: string;
  readonly host: string;
  readonly signature: string;
}

const ADAPTIVE = 'application/vnd.microsoft.card.adaptive';
const COLOURS = { critical: 'attention', warning: 'warning', info: 'accent', ok: 'good' } as const;

/**
 * Microsoft Teams through a Workflows (Power Automate) webhook, the replacement for Office 365
 * connectors: `workflows://host[:port]/WorkflowID/Signature` (Apprise's form, for logic.azure.com
 * flows), or the flow's whole URL with `https://` replaced by `workflows://` (other hosts). The flow
 * "Post to a channel when a webhook request is received" takes an Adaptive Card in a message.
 */
export const teams: Provider<TeamsConfig> = {
  kind: 'teams',
  label: 'Microsoft Teams (Workflows)',
  schemes: ['workflows', 'workflow'],
  groups: true,
  parse(url) {
    const base = origin(url.scheme === 'workflows', url.host, url.port);
    const sig = url.params.get('sig');
    if (sig) {
      // The flow's own URL: its path and query as they are.
      const path = url.segments.map(encodeURIComponent).join('/');
      return { url: `${base}/${path}?${url.params.toString()}`, host: url.host, signature: sig };
    }
    const [workflow, signature] = url.segments;
    if (!workflow || !signature || url.segments.length !== 2)
      throw channelInvalid(
        'write workflows://host/WorkflowID/Signature, or the flow URL with workflows:// for https://',
      );
    const query = new URLSearchParams({
      'api-version': url.params.get('api-version') ?? '2016-06-01',
      sp: '/triggers/manual/run',
      sv: '1.0',
      sig: signature,
    });
    return {
      url: `${base}/workflows/${encodeURIComponent(workflow)}/triggers/manual/paths/invoke?${query}`,
      host: url.host,
      signature,
    };
  },
  describe: (c) => `Teams workflow on ${c.host}`,
  secrets: (c) => [c.signature],
  send: (c, message, context) => {
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [
        {
          type: 'TextBlock',
          text: clip(message.title, 300),
          weight: 'Bolder',
          size: 'Medium',
          color: COLOURS[message.severity],
          wrap: true,
        },
        { type: 'TextBlock', text: clip(message.text, 10_000), wrap: true },
        ...(Object.keys(message.fields).length > 0
          ? [
              {
                type: 'FactSet',
                facts: Object.entries(message.fields).map(([title, value]) => ({ title, value })),
              },
            ]
          : []),
      ],
      ...(message.link
        ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Beacon', url: message.link }] }
        : {}),
    };
    return exchange(
      {
        method: 'POST',
        url: c.url,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          attachments: [{ contentType: ADAPTIVE, contentUrl: null, content: card }],
        }),
      },
      context,
    );
  },
};
