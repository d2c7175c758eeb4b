import Type from 'typebox';
import { IsoTime } from '../http/schemas.ts';
import type { Doorway, Placement, Sensor, Space } from './model.ts';

/** Ids clients choose (sensor serials, room codes) or Beacon generates (UUIDv7). */
export const Id = (description: string) =>
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', description });
export const Name = Type.String({ minLength: 1, maxLength: 200 });

export const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
});
export const IdParams = Type.Object({ id: Type.String() });
export const RenameBody = Type.Object({ name: Name }, { additionalProperties: false });

export const SpaceItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    parent: Type.Union([Type.String(), Type.Null()], { description: 'Enclosing space; null at the top.' }),
    createdAt: IsoTime('When the space was created.'),
  },
  { $id: 'Space' },
);
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

const iso = (t: number) => new Date(t).toISOString();
export const spaceJson = (s: Space) => ({ ...s, createdAt: iso(s.createdAt) });
export const doorwayJson = (d: Doorway) => ({ ...d, createdAt: iso(d.createdAt) });
export const sensorJson = (s: Sensor) => ({ ...s, createdAt: iso(s.createdAt) });
export const placementJson = (p: Placement) => ({
  ...p,
  from: iso(p.from),
  to: p.to === null ? null : iso(p.to),
  createdAt: iso(p.createdAt),
});

export const pageOf = <T extends Type.TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    next: Type.Union([Type.String(), Type.Null()], {
      description: 'Cursor for the next page; null at the end.',
    }),
  });
