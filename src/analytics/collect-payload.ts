import { BeaconError } from '../errors/catalog.ts';
import type { Revenue } from './model.ts';
import { CURRENCY, parseAmount } from './revenue.ts';

/**
 * One event as the agent sends it: `n` name, `u` URL, `r` referrer, `p` props, `a` age in ms, `i` id,
 * and `m` the money a custom event carries, `{"a": amount, "c": "EUR"}`.
 */
export interface AgentEvent {
  readonly name: string;
  readonly url: string;
  readonly referrer: string;
  readonly props: Record<string, string>;
  /** How long before sending the event happened; the event time is receipt minus this. */
  readonly ageMs: number;
  /** The agent's random id for the event, so a resent batch is not counted twice. */
  readonly id: string | undefined;
  readonly revenue: Revenue | undefined;
}

/** A collect payload: `{"s": site, "e": [events]}`. */
export interface CollectPayload {
  readonly site: string;
  readonly events: AgentEvent[];
}

const MAX_AGE_MS = 60 * 60_000;
const MAX_PROPS = 30;
// Printable names only: no control characters.
const NAME = /^[^\p{Cc}]{1,120}$/u;
const ID = /^[A-Za-z0-9_-]{8,64}$/;

const fail = (message: string) => new BeaconError('COLLECT_INVALID', message);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a decoded collect payload, naming the first bad field. */
export function parseCollect(body: unknown, maxEvents: number): CollectPayload {
  if (!isRecord(body)) throw fail('the body must be a JSON object');
  if (typeof body.s !== 'string' || body.s === '' || body.s.length > 64)
    throw fail('s (the site id) is missing');
  if (!Array.isArray(body.e) || body.e.length === 0) throw fail('e (the events) must be a non-empty array');
  if (body.e.length > maxEvents) throw fail(`at most ${maxEvents} events per request`);
  const events = body.e.map((raw: unknown, i): AgentEvent => {
    if (!isRecord(raw)) throw fail(`e[${i}] is not an object`);
    const { n, u, r, p, a, i: id, m } = raw;
    if (typeof n !== 'string' || !NAME.test(n))
      throw fail(`e[${i}].n (the event name) is missing or too long`);
    if (typeof u !== 'string' || u.length > 2000 || !/^https?:\/\//.test(u))
      throw fail(`e[${i}].u (the page URL) must be an http(s) URL`);
    if (r !== undefined && r !== null && (typeof r !== 'string' || r.length > 2000))
      throw fail(`e[${i}].r (the referrer) must be a string`);
    if (a !== undefined && (typeof a !== 'number' || !Number.isFinite(a)))
      throw fail(`e[${i}].a (the age in ms) must be a number`);
    if (id !== undefined && (typeof id !== 'string' || !ID.test(id)))
      throw fail(`e[${i}].i (the event id) must be 8-64 URL-safe characters`);
    const props: Record<string, string> = {};
    if (p !== undefined && p !== null) {
      if (!isRecord(p)) throw fail(`e[${i}].p (the properties) must be an object`);
      const entries = Object.entries(p);
      if (entries.length > MAX_PROPS) throw fail(`e[${i}].p has more than ${MAX_PROPS} properties`);
      for (const [k, v] of entries) {
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(k))
          throw fail(`e[${i}].p key ${JSON.stringify(k).slice(0, 70)} is not allowed`);
        if (!['string', 'number', 'boolean'].includes(typeof v))
          throw fail(`e[${i}].p.${k} must be a string, number or boolean`);
        props[k] = String(v).slice(0, 300);
      }
    }
    let revenue: Revenue | undefined;
    if (m !== undefined && m !== null) {
      if (!isRecord(m)) throw fail(`e[${i}].m (the revenue) must be {"a": amount, "c": currency}`);
      const milli = parseAmount(m.a);
      if (milli === undefined)
        throw fail(`e[${i}].m.a (the amount) must be a number or decimal string of at most a trillion`);
      if (typeof m.c !== 'string' || !CURRENCY.test(m.c))
        throw fail(`e[${i}].m.c (the currency) must be an ISO 4217 code such as EUR`);
      if (n === 'pageview') throw fail(`e[${i}].m: page views carry no revenue; send it with a custom event`);
      revenue = { milli, currency: m.c };
    }
    return {
      name: n,
      url: u,
      referrer: typeof r === 'string' ? r : '',
      props,
      ageMs: Math.min(MAX_AGE_MS, Math.max(0, Math.round(typeof a === 'number' ? a : 0))),
      id,
      revenue,
    };
  });
  return { site: body.s, events };
}
