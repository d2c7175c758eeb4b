// Wire shapes that more than one of the monitor's route files uses: the two components the OpenAPI
// document names (Check and Target, registered by routes.ts) and the pieces they are built from.
import Type from 'typebox';
import { IsoTime } from '../../http/schemas.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import { CHECK_STATES, stateOf, type CheckRow } from '../model.ts';
import { TARGET_STATES } from '../store/repositories.ts';
import { KIND_SCHEMAS } from '../target.ts';

/** A wire time that may be null. */
export const NullableIso = (description: string) => Type.Union([IsoTime(description), Type.Null()]);
/** A number that may be null (no checks to measure). */
export const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

/** The `:id` of the routes under `/v1/targets/:id`. */
export const IdParams = Type.Object({ id: Type.String({ description: 'Target id.' }) });

/** A check on the wire (`#/components/schemas/Check`). */
export const CheckItem = Type.Object(
  {
    target: Type.String(),
    region: Type.String(),
    slot: Type.Integer({ description: 'floor((scheduledAt - offset) / interval).' }),
    scheduledAt: IsoTime('When the slot began: the check identity with target and region.'),
    startedAt: IsoTime('When the request began; minus scheduledAt is the schedule jitter.'),
    ok: Type.Boolean(),
    durationMs: Type.Number(),
    phases: Type.Object({
      dnsMs: Type.Number(),
      connectMs: Type.Number(),
      tlsMs: Type.Number(),
      ttfbMs: Type.Number(),
      transferMs: Type.Number(),
    }),
    status: Type.Union([Type.Integer(), Type.Null()]),
    httpVersion: Type.Union([Type.String(), Type.Null()]),
    bytes: Type.Integer(),
    tlsExpiresAt: NullableIso('When the certificate expires (https).'),
    patternMatched: Type.Union([Type.Boolean(), Type.Null()]),
    redirects: Type.Integer(),
    error: Type.Union([Type.Object({ class: Type.String(), detail: Type.String() }), Type.Null()]),
    kind: Type.String({ description: 'http, tcp, dns, push or icmp.' }),
    state: Type.Enum(CHECK_STATES, {
      description:
        'up, down, degraded (up but slow) or maintenance (in a window: no incident, no alert, no uptime).',
    }),
    observed: Type.Optional(
      Type.Unknown({
        description:
          'What the check saw besides timings: `answers` (dns), `assertions` (http: `{ok, actual}` each), `push` (the last push), `ping` (sent, received, round trips), `missed` (`{slots, reason}`: slots of the target the prober let pass since its previous check, reason `per-host-limit`, `concurrency-limit`, `overrun` or `stalled`).',
      }),
    ),
  },
  { $id: 'Check' },
);

/** A stored check as `CheckItem` shows it (checks made before kinds and states were http, from `ok`). */
export const checkView = (c: CheckRow) => ({
  ...c,
  kind: c.kind ?? 'http',
  state: stateOf(c),
  ...(c.observed ? { observed: c.observed } : {}),
  scheduledAt: isoTime(c.scheduledAt),
  startedAt: isoTime(c.startedAt),
  tlsExpiresAt: isoTimeOrNull(c.tlsExpiresAt),
});

/** What a target view adds to its spec: identity, bookkeeping, current state and uptime. */
const viewFields = {
  id: Type.String(),
  source: Type.Union([Type.Literal('api'), Type.Literal('file')]),
  createdAt: IsoTime('When the target was created.'),
  updatedAt: IsoTime('When the target last changed.'),
  state: Type.Enum(TARGET_STATES, {
    description: 'State of the newest stored check; `unknown` before the first, `paused` while paused.',
  }),
  lastCheck: Type.Union([Type.Ref('Check'), Type.Null()]),
  uptime: Type.Object(
    { h24: NullableNumber, d7: NullableNumber, d30: NullableNumber },
    {
      description:
        'Percent of checks up (degraded counts as up) over the last 24 hours, 7 days and 30 days; checks in maintenance do not count.',
    },
  ),
};

/** A target on the wire, one shape per kind, with its current state and uptime (`#/components/schemas/Target`). */
export const TargetView = Type.Union(
  Object.entries(KIND_SCHEMAS).map(([kind, schema]) =>
    Type.Object(
      { ...schema.properties, kind: Type.Literal(kind), ...viewFields },
      { description: `A ${kind} target.` },
    ),
  ),
  { $id: 'Target' },
);
