// Wire shapes that several of analytics' route files use: filters and ranges as every query takes
// them, goal definitions, and the meta of visit-level answers.
import Type from 'typebox';

/** `[op, dimension, [values]]` filters, as the stats query, funnels, journeys, retention and segments take them. */
export const Filters = Type.Array(
  Type.Tuple([Type.String(), Type.String(), Type.Array(Type.String(), { maxItems: 100 })]),
  {
    maxItems: 20,
    description:
      'Each `[op, dimension, [values]]` with op `is`, `is_not` or `contains`. Besides the stats dimensions, `event:goal` names goals and `["is", "segment", [ID]]` stands for a saved segment.',
  },
);

/** A keyword or two local dates. */
export const DateRange = Type.Union(
  [Type.String(), Type.Array(Type.String(), { minItems: 2, maxItems: 2 })],
  {
    description: '`day`, `7d`, `30d`, `90d`, `month`, `realtime`, or `[from, to]` local dates (YYYY-MM-DD).',
  },
);

/** A goal's definition: a page path pattern, or a custom event with property filters. */
export const GoalSpecBody = Type.Object(
  {
    page: Type.Optional(
      Type.String({ maxLength: 500, description: 'Path pattern: `*` within a segment, `**` across them.' }),
    ),
    event: Type.Optional(Type.String({ maxLength: 120, description: 'Custom event name.' })),
    props: Type.Optional(
      Type.Array(Type.Tuple([Type.String(), Type.String(), Type.Array(Type.String(), { maxItems: 50 })]), {
        maxItems: 10,
        description: 'For event goals: `[op, key, [values]]` property filters, all of which must hold.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** A share of visitors, when an answer read a sample. */
export const SampleMetaBody = Type.Union([
  Type.Object({ fraction: Type.Number({ description: 'Share of visitors read; counts are scaled up.' }) }),
  Type.Null(),
]);

/** The meta of funnel, journey and retention answers. */
export const AnalysisMetaBody = Type.Object({
  timezone: Type.String(),
  dateRange: Type.Array(Type.String()),
  closed: Type.Boolean(),
  sample: SampleMetaBody,
  saltRotation: Type.String(),
});

/** `:id` of a site. */
export const SiteParams = Type.Object({ id: Type.String() });
