import { createRequire } from 'node:module';
import type * as Polyfill from '@js-temporal/polyfill';
import type { Temporal } from '@js-temporal/polyfill';
import type * as Rules from 'rrule-temporal';
import type { RRuleTemporal } from 'rrule-temporal';
import Type from 'typebox';
import Value from 'typebox/value';
import { BeaconError } from '../errors/catalog.ts';
import { firstProblem } from '../wire/validation.ts';

/** Where a window was defined: the API, or the targets file. */
export type DefinitionSource = 'api' | 'file';

/** Ids of rules and windows appear in URLs and the YAML file. */
export const DEFINITION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A maintenance window: one-off (`start` to `end`) or recurring (an iCalendar RRULE from `start`,
 * each occurrence lasting `durationMinutes`), in a time zone, for some targets, some tags, or all.
 * Checks made inside one still run, but are marked `maintenance`: they open no incident, send no
 * alert and do not count toward uptime.
 */
export const MaintenanceSpecSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    targets: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      default: [],
      maxItems: 1000,
      description: 'Target ids it covers.',
    }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: [],
      maxItems: 32,
      description:
        'Targets with any of these tags are covered too. With neither targets nor tags: every target.',
    }),
    start: Type.String({
      minLength: 10,
      maxLength: 40,
      description:
        'When it begins (the first occurrence, if recurring): local time in `timeZone` ("2026-05-03T02:00"), or an instant with an offset.',
    }),
    end: Type.Optional(
      Type.String({ minLength: 10, maxLength: 40, description: 'When a one-off window ends, as `start`.' }),
    ),
    rrule: Type.Optional(
      Type.String({
        minLength: 6,
        maxLength: 500,
        description: 'iCalendar recurrence rule (RFC 5545), e.g. `FREQ=WEEKLY;BYDAY=SU`, read in `timeZone`.',
      }),
    ),
    durationMinutes: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 44640,
        description: 'How long each occurrence of a recurring window lasts.',
      }),
    ),
    timeZone: Type.String({ default: 'UTC', minLength: 1, maxLength: 64, description: 'IANA time zone.' }),
  },
  { additionalProperties: false },
);
export type MaintenanceSpec = Type.Static<typeof MaintenanceSpecSchema>;

/** A stored maintenance window. */
export interface MaintenanceWindow extends MaintenanceSpec {
  readonly tenant: string;
  readonly id: string;
  readonly source: DefinitionSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * The calendar libraries, loaded when the first window's times are read rather than with this module:
 * every process that reads a targets file or the store's definitions imports it, and the probe, as a
 * rule with no window at all, held the polyfill and the rule library for nothing (about 10 MB of RSS;
 * issue 20). Loaded synchronously, since parsing a window is; so their CommonJS builds, which a process
 * that also imports the polyfill as an ES module (occupancy, in `beacon start`) holds beside that one.
 */
const load = createRequire(import.meta.url);
let calendar:
  { readonly Temporal: typeof Temporal; readonly RRuleTemporal: typeof RRuleTemporal } | undefined;
const libraries = () =>
  (calendar ??= {
    Temporal: (load('@js-temporal/polyfill') as typeof Polyfill).Temporal,
    RRuleTemporal: (load('rrule-temporal') as typeof Rules).RRuleTemporal,
  });

/** What a window means in time: a fixed span, or a rule's occurrences. */
type Schedule =
  | { readonly kind: 'once'; readonly start: number; readonly end: number }
  | { readonly kind: 'recurring'; readonly rule: RRuleTemporal; readonly durationMs: number };

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

function invalid(message: string): BeaconError {
  return new BeaconError('MAINTENANCE_INVALID', message);
}

/** `text` as a local date-time in `zone` (no offset), or the wall time in `zone` of an instant. */
function wallTime(text: string, zone: string, field: string): Temporal.PlainDateTime {
  const { Temporal } = libraries();
  try {
    return OFFSET.test(text)
      ? Temporal.Instant.from(text).toZonedDateTimeISO(zone).toPlainDateTime()
      : Temporal.PlainDateTime.from(text);
  } catch {
    throw invalid(`${field} is not a date and time ("2026-05-03T02:00", or with an offset)`);
  }
}

/** The instant of `text` (with an offset, or local in `zone`, the earlier of a repeated hour). */
function instant(text: string, zone: string, field: string): number {
  return wallTime(text, zone, field).toZonedDateTime(zone, { disambiguation: 'compatible' })
    .epochMilliseconds;
}

/** Compiled schedules by window identity, so checks do not parse rules again and again. */
const compiled = new Map<string, Schedule>();

/** Reads a spec's time fields; throws MAINTENANCE_INVALID saying which is wrong. */
function schedule(spec: MaintenanceSpec): Schedule {
  const { Temporal, RRuleTemporal } = libraries();
  try {
    Temporal.Now.instant().toZonedDateTimeISO(spec.timeZone);
  } catch {
    throw invalid(`timeZone ${JSON.stringify(spec.timeZone)} is not an IANA time zone`);
  }
  if (spec.rrule === undefined) {
    if (spec.end === undefined)
      throw invalid('a one-off window needs an end (or give rrule and durationMinutes)');
    if (spec.durationMinutes !== undefined)
      throw invalid('durationMinutes is for recurring windows (with rrule)');
    const start = instant(spec.start, spec.timeZone, 'start');
    const end = instant(spec.end, spec.timeZone, 'end');
    if (end <= start) throw invalid('end must be after start');
    return { kind: 'once', start, end };
  }
  if (spec.end !== undefined)
    throw invalid('a recurring window ends by its rule (UNTIL or COUNT), not by end');
  if (spec.durationMinutes === undefined) throw invalid('a recurring window needs durationMinutes');
  const body = spec.rrule.replace(/^RRULE:/i, '');
  if (!/^[A-Za-z0-9=;,+:-]+$/.test(body) || /DTSTART/i.test(body))
    throw invalid('rrule must be one RRULE line such as FREQ=WEEKLY;BYDAY=SU (the start comes from start)');
  const local = wallTime(spec.start, spec.timeZone, 'start');
  const dtstart = local.toString({ smallestUnit: 'second' }).replace(/[-:]/g, '');
  try {
    const rule = new RRuleTemporal({
      rruleString: `DTSTART;TZID=${spec.timeZone}:${dtstart}\nRRULE:${body}`,
    });
    // Reading one occurrence catches what the constructor lets through.
    rule.next(new Date(0), true);
    return { kind: 'recurring', rule, durationMs: spec.durationMinutes * 60_000 };
  } catch (err) {
    throw invalid(`rrule: ${(err as Error).message}`);
  }
}

function scheduleOf(w: MaintenanceWindow): Schedule {
  const key = `${w.tenant}\u0000${w.id}\u0000${w.updatedAt}`;
  let s = compiled.get(key);
  if (!s) {
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, (s = schedule(w)));
  }
  return s;
}

/** Fills defaults and validates a window from the API or the file; throws MAINTENANCE_INVALID. */
export function parseMaintenanceSpec(input: unknown): MaintenanceSpec {
  const value = Value.Default(MaintenanceSpecSchema, structuredClone(input ?? {}));
  if (!Value.Check(MaintenanceSpecSchema, value))
    throw invalid(firstProblem(MaintenanceSpecSchema, value, 'window'));
  schedule(value);
  return value;
}

/** The occurrence of a window holding instant `at`, or undefined when `at` is outside the window. */
export function occurrenceAt(w: MaintenanceWindow, at: number): { start: number; end: number } | undefined {
  const s = scheduleOf(w);
  if (s.kind === 'once') return at >= s.start && at < s.end ? { start: s.start, end: s.end } : undefined;
  const previous = s.rule.previous(new Date(at), true);
  if (!previous) return undefined;
  const start = previous.epochMilliseconds;
  return at < start + s.durationMs ? { start, end: start + s.durationMs } : undefined;
}

/** The occurrence in force at `now`, else the next one; undefined when the window is over. */
export function currentOrNext(w: MaintenanceWindow, now: number): { start: number; end: number } | undefined {
  const current = occurrenceAt(w, now);
  if (current) return current;
  const s = scheduleOf(w);
  if (s.kind === 'once') return s.start > now ? { start: s.start, end: s.end } : undefined;
  const next = s.rule.next(new Date(now), false);
  return next ? { start: next.epochMilliseconds, end: next.epochMilliseconds + s.durationMs } : undefined;
}

/** True when a window covers a target: listed, tagged, or a window for every target. */
export function covers(
  w: Pick<MaintenanceSpec, 'targets' | 'tags'>,
  target: string,
  tags: readonly string[],
): boolean {
  if (w.targets.length === 0 && w.tags.length === 0) return true;
  return w.targets.includes(target) || w.tags.some((t) => tags.includes(t));
}

/** The first of `windows` covering the target at `at`, if any. */
export function inMaintenance(
  windows: readonly MaintenanceWindow[],
  target: string,
  tags: readonly string[],
  at: number,
): MaintenanceWindow | undefined {
  return windows.find((w) => covers(w, target, tags) && occurrenceAt(w, at) !== undefined);
}
