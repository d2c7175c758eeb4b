import Type from 'typebox';
import { IsoTime } from '../../http/schemas.ts';
import { decodeCursor } from '../../wire/cursor.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import type { Doorway, Placement, Sensor, Space } from '../model.ts';

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

/** A space, as every route answers it. */
export const SpaceItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    parent: Type.Union([Type.String(), Type.Null()], { description: 'Enclosing space; null at the top.' }),
    createdAt: IsoTime('When the space was created.'),
  },
  { $id: 'Space' },
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

/** A space as `SpaceItem`. */
export const spaceJson = (s: Space) => ({ ...s, createdAt: isoTime(s.createdAt) });
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
