import Type from 'typebox';
import { BeaconError } from '../errors/catalog.ts';

/**
 * A slug is the public name of a page (`/status/{slug}`): lower-case letters, digits and inner
 * hyphens, unique across the instance because the URL carries no tenant.
 */
export const STATUS_SLUG = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';
/** A host name a page may be served on (lower case, no port): what the Host header must equal. */
const DOMAIN = '^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,62}$';

/** A group of a page: a name and either the ids of its targets or a tag selecting them. */
export const StatusGroupSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    targets: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
        maxItems: 1000,
        description: 'Target ids, shown in this order.',
      }),
    ),
    tag: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Every target with this tag, in id order.' }),
    ),
  },
  { additionalProperties: false },
);
export type StatusGroup = Type.Static<typeof StatusGroupSchema>;

/** What an operator says of a status page: its public name, its looks and which targets it shows. */
export const StatusPageSpecSchema = Type.Object(
  {
    slug: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: STATUS_SLUG,
      description: 'Public name: the page is `/status/{slug}`. Unique across the instance.',
    }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000, default: '' })),
    groups: Type.Optional(Type.Array(StatusGroupSchema, { maxItems: 50, default: [] })),
    domain: Type.Optional(
      Type.String({
        maxLength: 253,
        pattern: DOMAIN,
        description:
          'A host name of its own (`status.example.com`): a request for `/` whose Host header is this gets the page.',
      }),
    ),
    theme: Type.Optional(Type.Union([Type.Literal('light'), Type.Literal('dark')], { default: 'light' })),
    showResponseTimes: Type.Optional(
      Type.Boolean({ default: false, description: 'Show each target’s average latency.' }),
    ),
    showTargetUrls: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Show what each target checks (its URL or host); otherwise only its display name.',
      }),
    ),
  },
  { additionalProperties: false },
);
/** A page as given: fields with defaults may be left out. */
export type StatusPageInput = Type.Static<typeof StatusPageSpecSchema>;
/** Fields of a page that have defaults. */
type Defaulted = 'description' | 'groups' | 'theme' | 'showResponseTimes' | 'showTargetUrls';
/** A page's spec with its defaults filled in, as stored. */
export type StatusPageSpec = Omit<StatusPageInput, Defaulted> & Required<Pick<StatusPageInput, Defaulted>>;

/** A spec with the defaults of whatever was left out. */
export function specWithDefaults(input: StatusPageInput): StatusPageSpec {
  return {
    ...input,
    description: input.description ?? '',
    groups: input.groups ?? [],
    theme: input.theme ?? 'light',
    showResponseTimes: input.showResponseTimes ?? false,
    showTargetUrls: input.showTargetUrls ?? false,
  };
}

/** A stored status page. */
export interface StatusPage extends StatusPageSpec {
  readonly tenant: string;
  readonly id: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Where an incident stands, as the operator tells it. */
export const UPDATE_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

/** An incident update an operator publishes on a page. */
export const StatusUpdateSpecSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.Optional(
      Type.String({ maxLength: 20000, default: '', description: 'Markdown; raw HTML is shown as text.' }),
    ),
    status: Type.Union(
      UPDATE_STATUSES.map((s) => Type.Literal(s)),
      { description: 'investigating, identified, monitoring or resolved.' },
    ),
    at: Type.Optional(Type.String({ format: 'date-time', description: 'When it happened (default: now).' })),
  },
  { additionalProperties: false },
);

/** A stored incident update: `at` in epoch ms. */
export interface StatusUpdate {
  readonly tenant: string;
  readonly page: string;
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly status: UpdateStatus;
  readonly at: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Keyset position in the (at desc, id desc) order of a page's updates. */
export interface UpdateCursor {
  readonly at: number;
  readonly id: string;
}

/**
 * Checks what the schema cannot: each group names targets or a tag, not both, and the ids a page
 * lists stay within `maxTargets`. Throws STATUS_PAGE_INVALID or STATUS_PAGE_TOO_MANY_TARGETS.
 */
export function checkGroups(groups: readonly StatusGroup[], maxTargets: number): void {
  groups.forEach((g, i) => {
    if ((g.targets === undefined) === (g.tag === undefined))
      throw new BeaconError('STATUS_PAGE_INVALID', `groups.${i} needs either targets or tag (not both)`);
  });
  const listed = new Set(groups.flatMap((g) => g.targets ?? []));
  if (listed.size > maxTargets)
    throw new BeaconError(
      'STATUS_PAGE_TOO_MANY_TARGETS',
      `a status page shows at most ${maxTargets} targets; these groups list ${listed.size}`,
    );
}
