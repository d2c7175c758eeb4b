/**
 * Goals: what counts as a conversion. A page goal is a page path pattern (`*` matches within one path
 * segment, `**` across segments); an event goal is a custom event's name, optionally with property
 * filters. Goals are matched against a visit's steps, so a goal defined today counts history too.
 */
import { RE2JS } from 're2js';
import { BeaconError } from '../errors/catalog.ts';
import type { Filter, Step } from './model.ts';

/** A goal as stored and as the API takes it: exactly one of `page` and `event`. */
export interface GoalSpec {
  readonly page?: string | undefined;
  readonly event?: string | undefined;
  /** For event goals: `[op, key, values]` filters on the event's properties, all of which must hold. */
  readonly props?: readonly (readonly [string, string, readonly string[]])[] | undefined;
}

/** A goal ready to match steps. */
export interface Goal {
  readonly name: string;
  readonly spec: GoalSpec;
  readonly matches: (step: Step) => boolean;
}

const invalid = (message: string) => new BeaconError('GOAL_INVALID', message);
const PROP_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/** A page pattern as an RE2 expression: literal text, `*` within a segment, `**` across them. */
function patternRegex(pattern: string): RE2JS {
  const source = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : RE2JS.quote(part)))
    .join('');
  return RE2JS.compile(`^${source}$`);
}

/** ASCII letters folded, as the stats filters' `contains` does. */
const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Checks one `[op, key, values]` against an event's properties. */
export function propertyMatcher(f: Filter): (props: Readonly<Record<string, string>> | undefined) => boolean {
  const key = f.dim;
  if (f.op === 'contains') {
    const needles = f.values.map(fold);
    return (props) => {
      const v = props?.[key];
      return v !== undefined && needles.some((n) => fold(v).includes(n));
    };
  }
  const values = new Set(f.values);
  if (f.op === 'is') return (props) => values.has(props?.[key] ?? '');
  return (props) => !values.has(props?.[key] ?? '');
}

/** Validates a goal's definition, naming the bad part (GOAL_INVALID). */
export function parseGoalSpec(raw: unknown): GoalSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('a goal is an object');
  const { page, event, props } = raw as Record<string, unknown>;
  if ((page === undefined) === (event === undefined))
    throw invalid('a goal has exactly one of page (a path pattern) and event (a custom event name)');
  if (page !== undefined) {
    if (typeof page !== 'string' || !page.startsWith('/') || page.length > 500)
      throw invalid('page must be a path pattern starting with /, at most 500 characters');
    if (props !== undefined) throw invalid('property filters belong to event goals');
    return { page };
  }
  if (typeof event !== 'string' || event === '' || event.length > 120 || event === 'pageview')
    throw invalid('event must be a custom event name (not pageview), at most 120 characters');
  if (props === undefined) return { event };
  if (!Array.isArray(props) || props.length > 10) throw invalid('props must be a list of at most 10 filters');
  const filters = props.map((f: unknown, i) => {
    if (!Array.isArray(f) || f.length !== 3) throw invalid(`props[${i}] must be [op, key, [values]]`);
    const [op, key, values] = f as unknown[];
    if (op !== 'is' && op !== 'is_not' && op !== 'contains')
      throw invalid(`props[${i}]: op must be is, is_not or contains`);
    if (typeof key !== 'string' || !PROP_KEY.test(key)) throw invalid(`props[${i}]: bad property key`);
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      values.length > 50 ||
      values.some((v) => typeof v !== 'string')
    )
      throw invalid(`props[${i}]: values must be a list of 1 to 50 strings`);
    return [op, key, values as string[]] as const;
  });
  return { event, props: filters };
}

/** A goal that matches steps. */
export function compileGoal(name: string, spec: GoalSpec): Goal {
  if (spec.page !== undefined) {
    const regex = patternRegex(spec.page);
    // A site's page views repeat a few thousand paths; RE2 costs microseconds a match, a lookup far less.
    const seen = new Map<string, boolean>();
    const matchesPage = (page: string) => {
      let hit = seen.get(page);
      if (hit === undefined) {
        if (seen.size >= 50_000) seen.clear();
        seen.set(page, (hit = regex.matches(page)));
      }
      return hit;
    };
    return { name, spec, matches: (s) => s.name === 'pageview' && matchesPage(s.page) };
  }
  const event = spec.event!;
  const props = (spec.props ?? []).map(([op, key, values]) =>
    propertyMatcher({ op: op as Filter['op'], dim: key, values }),
  );
  return {
    name,
    spec,
    matches: (s) => s.name === event && props.every((matches) => matches(s.props)),
  };
}

/** A short description of a goal: `Visit /blog/**`, `signup where plan is pro`. */
export function describeGoal(spec: GoalSpec): string {
  if (spec.page !== undefined) return `Visit ${spec.page}`;
  const props = (spec.props ?? []).map(
    ([op, key, values]) => `${key} ${op.replace('_', ' ')} ${values.join('|')}`,
  );
  return props.length > 0 ? `${spec.event!} where ${props.join(' and ')}` : spec.event!;
}
