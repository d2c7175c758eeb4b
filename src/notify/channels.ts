import Type from 'typebox';
import Value from 'typebox/value';
import { BeaconError } from '../errors/catalog.ts';
import { firstProblem } from '../wire/validation.ts';
import { channelInvalid, parseChannelUrl } from './channel-url.ts';
import { discord } from './providers/discord.ts';
import { email } from './providers/email.ts';
import { googleChat } from './providers/google-chat.ts';
import { gotify } from './providers/gotify.ts';
import { matrix } from './providers/matrix.ts';
import { mattermost } from './providers/mattermost.ts';
import { ntfy } from './providers/ntfy.ts';
import { opsgenie } from './providers/opsgenie.ts';
import { pagerduty } from './providers/pagerduty.ts';
import type { ChannelAddress, Message, Outcome, Provider, SendContext } from './providers/provider.ts';
import { pushover } from './providers/pushover.ts';
import { slack } from './providers/slack.ts';
import { teams } from './providers/teams.ts';
import { telegram } from './providers/telegram.ts';
import { webhook } from './providers/webhook.ts';

/** Every service Beacon sends to, one provider each. */
export const PROVIDERS: readonly Provider<unknown>[] = [
  webhook,
  slack,
  discord,
  teams,
  telegram,
  email,
  ntfy,
  gotify,
  pushover,
  pagerduty,
  opsgenie,
  matrix,
  mattermost,
  googleChat,
];

const BY_SCHEME = new Map(PROVIDERS.flatMap((p) => p.schemes.map((s) => [s, p] as const)));

/** Where a channel was defined: the API, or the watched YAML file (monitoring as code). */
export type ChannelSource = 'api' | 'file';

/** What a user declares about a channel, in the API and in the YAML file alike. */
export const ChannelSpecSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Display name.' }),
    url: Type.String({
      minLength: 1,
      maxLength: 4096,
      description:
        'Apprise-style service URL (slack://, discord://, workflows://, tgram://, mailtos://, ntfy://, gotify://, pover://, pagerduty://, opsgenie://, matrixs://, mmost://, gchat://, json://…). It holds secrets: it is stored, never shown again.',
    }),
    template: Type.Optional(
      Type.String({
        maxLength: 65536,
        description:
          'Webhooks only: the JSON body to send, with {{title}}, {{text}}, {{severity}}, {{event}}, {{subject}}, {{link}}, {{at}}, {{count}} in its strings and "{{items}}" for the list of notifications.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ChannelSpec = Type.Static<typeof ChannelSpecSchema>;

/** A channel as stored. */
export interface Channel extends ChannelSpec {
  readonly tenant: string;
  readonly id: string;
  /** The provider's kind (`slack`), kept so listings need not parse URLs. */
  readonly kind: string;
  readonly source: ChannelSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Channel ids appear in URLs and the YAML file. */
export const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A channel's URL read by its provider: what to show, what to hide, and how to send. */
export interface ResolvedChannel {
  readonly kind: string;
  readonly label: string;
  readonly groups: boolean;
  /** Where it sends, without secrets. */
  readonly summary: string;
  /** Replaces every secret of the channel in `text` with `****`. */
  scrub(text: string): string;
  send(message: Message, context: SendContext): Promise<Outcome>;
}

/** Reads a channel's address with its provider; throws CHANNEL_INVALID saying what is wrong. */
export function resolveChannel(address: ChannelAddress): ResolvedChannel {
  const url = parseChannelUrl(address.url);
  const provider = BY_SCHEME.get(url.scheme);
  if (!provider) {
    throw channelInvalid(
      `unknown service ${url.scheme}://; use one of ${[...BY_SCHEME.keys()].map((s) => `${s}://`).join(', ')}`,
    );
  }
  if (address.template !== undefined && provider !== webhook)
    throw channelInvalid('only json:// and jsons:// webhooks take a template');
  const config = provider.parse(url, address);
  const secrets = provider
    .secrets(config)
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((t, s) => t.split(s).join('****'), text);
  return {
    kind: provider.kind,
    label: provider.label,
    groups: provider.groups,
    summary: scrub(provider.describe(config)),
    scrub,
    send: async (message, context) => {
      const outcome = await provider.send(config, message, context);
      return { ...outcome, answer: scrub(outcome.answer) };
    },
  };
}

/**
 * Fills defaults and validates a channel definition from any source (strictly: no value of the
 * wrong type is converted). Returns the spec with its provider's kind, or throws CHANNEL_INVALID.
 */
export function parseChannelSpec(input: unknown): { spec: ChannelSpec; kind: string } {
  if (!Value.Check(ChannelSpecSchema, input))
    throw new BeaconError('CHANNEL_INVALID', firstProblem(ChannelSpecSchema, input, 'channel'));
  const spec = input;
  const resolved = resolveChannel(spec);
  return { spec, kind: resolved.kind };
}
