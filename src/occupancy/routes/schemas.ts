import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import { IsoTime } from '../../http/schemas.ts';
import { decodeCursor } from '../../wire/cursor.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import type {
  Alert,
  AuditEntry,
  Correction,
  Doorway,
  OutboxEntry,
  Placement,
  Sensor,
  Space,
  SpaceMove,
} from '../model.ts';

/** The OpenAPI tags of every occupancy route. */
export const tags = ['occupancy'];
/** Every occupancy route takes a bearer token. */
export const security = [{ bearer: [] }];

/** Ids clients choose (sensor serials, room codes) or Beacon generates (UUIDv7). */
export const Id = (description: string) =>
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', description });
/** A display name. */
export const Name = Type.String({ minLength: 1, maxLength: 200 });

/** The query of a listing paged by cursor. */
export const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
});
/** The path parameters of a route about one item. */
export const IdParams = Type.Object({ id: Type.String() });
/** The body of a rename. */
export const RenameBody = Type.Object({ name: Name }, { additionalProperties: false });

/** A space's weekly open hours. */
export const OpenHoursSchema = Type.Array(
  Type.Object(
    {
      days: Type.Array(
        Type.Union([
          Type.Literal('mon'),
          Type.Literal('tue'),
          Type.Literal('wed'),
          Type.Literal('thu'),
          Type.Literal('fri'),
          Type.Literal('sat'),
          Type.Literal('sun'),
        ]),
        { minItems: 1, maxItems: 7, uniqueItems: true },
      ),
      from: Type.String({
        pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
        description: 'Local opening time, HH:MM.',
      }),
      to: Type.String({
        pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
        description: 'Local closing time, HH:MM; at or before `from`, it is on the next day.',
      }),
    },
    { additionalProperties: false },
  ),
  {
    maxItems: 50,
    description:
      'When the space is open, in occupancy.timeZone: sensors count as silent only within these hours. Null inherits the parent’s; no hours anywhere up the tree means always open.',
  },
);
/** The settings a space may have, as bodies give them (each may be null to clear it). */
export const SpaceSettingsBody = {
  capacity: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: 10_000_000 }), Type.Null()], {
      description: 'How many people it holds; charts draw it and alerts watch it. Null: none.',
    }),
  ),
  alertAfterMinutes: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 1440 }), Type.Null()], {
      description: 'Minutes over capacity before it alerts; null takes occupancy.capacityAlertMinutes.',
    }),
  ),
  openHours: Type.Optional(Type.Union([OpenHoursSchema, Type.Null()])),
};
/** A space, as every route answers it. */
export const SpaceItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    parent: Type.Union([Type.String(), Type.Null()], {
      description: 'Enclosing space now (moves change it from their date on); null at the top.',
    }),
    createdAt: IsoTime('When the space was created.'),
    capacity: Type.Union([Type.Integer(), Type.Null()]),
    alertAfterMinutes: Type.Union([Type.Integer(), Type.Null()]),
    openHours: Type.Union([OpenHoursSchema, Type.Null()]),
    parents: Type.Optional(
      Type.Array(
        Type.Object({
          parent: Type.Union([Type.String(), Type.Null()]),
          from: Type.Union([IsoTime('Since (inclusive).'), Type.Null()], {
            description: 'Null: since creation.',
          }),
          to: Type.Union([IsoTime('Until (exclusive).'), Type.Null()], { description: 'Null: still.' }),
        }),
        { description: 'Every parent it has had or will have, in time order (GET of one space only).' },
      ),
    ),
  },
  { $id: 'Space' },
);
/** A move of a space, as its routes answer it. */
export const MoveItem = Type.Object(
  {
    space: Type.String(),
    parent: Type.Union([Type.String(), Type.Null()]),
    at: IsoTime('From when the space is inside `parent`.'),
    createdAt: IsoTime('When the move was recorded.'),
  },
  { $id: 'SpaceMove' },
);
/** A headcount correction, as its routes answer it. */
export const CorrectionItem = Type.Object(
  {
    id: Type.String(),
    space: Type.String(),
    at: IsoTime('The instant of the headcount.'),
    count: Type.Integer({ description: 'People counted at `at`.' }),
    note: Type.String(),
    createdAt: IsoTime('When it was recorded.'),
    createdBy: Type.String({ description: 'The id of the token that recorded it.' }),
  },
  { $id: 'Correction' },
);
/** One entry of the occupancy audit trail. */
export const AuditItem = Type.Object(
  {
    id: Type.String(),
    at: IsoTime('When the change was made.'),
    actor: Type.String({ description: 'The id of the token that made it.' }),
    action: Type.String({
      description:
        'correction.set, correction.deleted, space.moved, space.move-undone, space.changed or space.deleted.',
    }),
    space: Type.String(),
    detail: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'AuditEntry' },
);
/** An alert, as its routes answer it. */
export const AlertItem = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('capacity'), Type.Literal('silent'), Type.Literal('drift')]),
    subject: Type.String({ description: 'The space, sensor or doorway it is about.' }),
    space: Type.Union([Type.String(), Type.Null()]),
    openedAt: IsoTime('When it opened (for drift: the day it is about).'),
    closedAt: Type.Union([IsoTime('When it closed.'), Type.Null()], { description: 'Null while open.' }),
    detail: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'OccupancyAlert' },
);
/** The event `notify(tenant, event)` receives and webhooks get as JSON (`OccupancyEvent`). */
export const OccupancyEventItem = Type.Object(
  {
    id: Type.String({ description: 'The same on every delivery attempt: a receiver drops repeats by it.' }),
    type: Type.Union([
      Type.Literal('occupancy.capacity.exceeded'),
      Type.Literal('occupancy.capacity.resolved'),
      Type.Literal('occupancy.sensor.silent'),
      Type.Literal('occupancy.sensor.resumed'),
      Type.Literal('occupancy.doorway.drift'),
    ]),
    tenant: Type.String(),
    at: IsoTime('When the condition began (or, for a closing event, ended); for drift, the day’s start.'),
    alert: Type.String({ description: 'The alert it opens or closes (GET /v1/occupancy-alerts).' }),
    subject: Type.Object({
      kind: Type.Union([Type.Literal('space'), Type.Literal('sensor'), Type.Literal('doorway')]),
      id: Type.String(),
      name: Type.String(),
    }),
    space: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
    summary: Type.String({ description: 'One line for people.' }),
    detail: Type.Record(Type.String(), Type.Unknown(), {
      description:
        'capacity: {capacity, count, minutes, since}; silent: {lastEventAt, silentForMs, doorway}; drift: {day, in, out}.',
    }),
  },
  { $id: 'OccupancyEvent' },
);
/** A notification of the outbox, as its route answers it. */
export const NotificationItem = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    createdAt: IsoTime('When it was queued.'),
    attempts: Type.Integer(),
    deliveredAt: Type.Union([IsoTime('When it was delivered.'), Type.Null()]),
    lastError: Type.Union([Type.String(), Type.Null()]),
    nextAttemptAt: Type.Union([IsoTime('When it is tried next.'), Type.Null()], {
      description: 'Null once delivered, or given up after occupancy.alertMaxAttempts.',
    }),
    event: OccupancyEventItem,
  },
  { $id: 'OccupancyNotification' },
);
/** A doorway, as every route answers it. */
export const DoorwayItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    a: Type.String({ description: 'Space on side a.' }),
    b: Type.Union([Type.String(), Type.Null()], { description: 'Space on side b; null is the outside.' }),
    createdAt: IsoTime('When the doorway was created.'),
  },
  { $id: 'Doorway' },
);
/** A sensor, as every route answers it. */
export const SensorItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: IsoTime('When the sensor was registered.'),
    unplacedEvents: Type.Optional(
      Type.Integer({ description: 'Events kept but not counted: no placement covers their time.' }),
    ),
  },
  { $id: 'Sensor' },
);
/** A placement, as every route answers it. */
export const PlacementItem = Type.Object(
  {
    id: Type.String(),
    sensor: Type.String(),
    doorway: Type.String(),
    positive: Type.Union([Type.Literal('a'), Type.Literal('b')], {
      description: 'The side a +1 crossing enters; -1 enters the other.',
    }),
    from: IsoTime('Start of the placement (inclusive).'),
    to: Type.Union([IsoTime('End (exclusive).'), Type.Null()], { description: 'End; null while in force.' }),
    createdAt: IsoTime('When the placement was created.'),
  },
  { $id: 'Placement' },
);

/** A space as `SpaceItem` (its parent is the one it has now). */
export const spaceJson = (s: Space) => ({
  id: s.id,
  name: s.name,
  parent: s.parent,
  createdAt: isoTime(s.createdAt),
  capacity: s.capacity ?? null,
  alertAfterMinutes: s.alertAfterMinutes ?? null,
  openHours: s.openHours?.map((h) => ({ ...h, days: [...h.days] })) ?? null,
});
/** A move as `MoveItem`. */
export const moveJson = (m: SpaceMove) => ({
  space: m.space,
  parent: m.parent,
  at: isoTime(m.at),
  createdAt: isoTime(m.createdAt),
});
/** A correction as `CorrectionItem`. */
export const correctionJson = (k: Correction) => ({
  ...k,
  at: isoTime(k.at),
  createdAt: isoTime(k.createdAt),
});
/** An audit entry as `AuditItem`. */
export const auditJson = (a: AuditEntry) => ({ ...a, at: isoTime(a.at) });
/** An alert as `AlertItem`. */
export const alertJson = (a: Alert) => ({
  ...a,
  openedAt: isoTime(a.openedAt),
  closedAt: isoTimeOrNull(a.closedAt),
});
/** An outbox entry as `NotificationItem`. */
export const notificationJson = (e: OutboxEntry) => ({
  id: e.id,
  type: e.event.type,
  createdAt: isoTime(e.createdAt),
  attempts: e.attempts,
  deliveredAt: isoTimeOrNull(e.deliveredAt),
  lastError: e.lastError,
  nextAttemptAt: isoTimeOrNull(e.nextAttemptAt),
  event: { ...e.event, detail: { ...e.event.detail } },
});
/** A doorway as `DoorwayItem`. */
export const doorwayJson = (d: Doorway) => ({ ...d, createdAt: isoTime(d.createdAt) });
/** A sensor as `SensorItem`. */
export const sensorJson = (s: Sensor) => ({ ...s, createdAt: isoTime(s.createdAt) });
/** A placement as `PlacementItem`. */
export const placementJson = (p: Placement) => ({
  ...p,
  from: isoTime(p.from),
  to: isoTimeOrNull(p.to),
  createdAt: isoTime(p.createdAt),
});

/**
 * The query of a listing paged newest first by id: `after` is the previous page's `next`, as in every
 * other listing. `before` is its old name, still read so that clients written against it keep paging.
 */
export const NewestQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
  before: Type.Optional(
    Type.String({
      description: 'Deprecated: the old name of `after`; give one or the other.',
      deprecated: true,
    }),
  ),
});

/**
 * The id a newest-first listing resumes below, from its `after` cursor (or the deprecated `before`);
 * both at once is refused, since they could disagree.
 */
export function newestAfter(query: {
  readonly after?: string;
  readonly before?: string;
}): string | undefined {
  if (query.after !== undefined && query.before !== undefined)
    throw new BeaconError('BAD_REQUEST', 'Give the cursor as `after` only (`before` is its deprecated name)');
  const cursor = query.after ?? query.before;
  return cursor === undefined ? undefined : decodeCursor(cursor, ['string'])[0];
}

/** The id a listing in id order resumes after, from its `after` cursor (see `ListQuery`). */
export const afterId = (cursor: string | undefined): string | undefined =>
  cursor === undefined ? undefined : decodeCursor(cursor, ['string'])[0];

/** A page of items as a listing answers it (see `page` in wire/cursor.ts). */
export const pageOf = <T extends Type.TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    next: Type.Union([Type.String(), Type.Null()], {
      description: 'Cursor for the next page; null at the end.',
    }),
  });
