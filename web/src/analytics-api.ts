import { callJson } from './api.ts';

/** A site, as `GET /v1/sites` lists it. */
export interface Site {
  readonly id: string;
  readonly domain: string;
  readonly allowedDomains: readonly string[];
  readonly timezone: string;
  readonly respectDnt: boolean;
  readonly saltRotation: 'daily' | 'monthly';
  readonly currency: string;
  readonly createdAt: string;
}

/** A filter, as every query takes it: `[op, dimension, [values]]`. */
export type Filter = readonly [string, string, readonly string[]];

/** One row of a stats answer: dimension values (time bucket first), then one number per metric. */
export interface StatsRow {
  readonly dimensions: readonly string[];
  readonly metrics: readonly number[];
}

export interface StatsQuery {
  readonly metrics: readonly string[];
  readonly dimensions?: readonly string[];
  readonly filters?: readonly Filter[];
  readonly dateRange: string | readonly [string, string];
  readonly interval?: string;
  readonly limit?: number;
}

/** The meta of a stats answer the dashboard shows. */
export interface StatsMeta {
  readonly source: string;
  readonly imported: boolean;
  readonly sample: { fraction: number } | null;
  readonly currency?: string;
  readonly otherCurrencies?: Readonly<Record<string, number>>;
}

/** A goal: a page pattern, or a custom event with property filters. */
export interface Goal {
  readonly id: string;
  readonly name: string;
  readonly page?: string;
  readonly event?: string;
  readonly description: string;
}

/** A saved set of filters. */
export interface Segment {
  readonly id: string;
  readonly name: string;
  readonly filters: readonly Filter[];
}

/** What funnels, journeys and retention answer with besides their figures. */
export interface AnalysisMeta {
  readonly sample: { fraction: number } | null;
  readonly saltRotation: string;
}

export interface FunnelStepAnswer {
  readonly label: string;
  readonly visitors: number;
  readonly conversionRate: number;
  readonly dropoff: number;
  readonly dropoffRate: number;
  readonly medianSecondsToNext: number | null;
}

export interface FunnelAnswer {
  readonly steps: readonly FunnelStepAnswer[];
  readonly visitors: number;
  readonly meta: AnalysisMeta;
}

export interface JourneyDirection {
  readonly paths: readonly { pages: readonly string[]; visits: number; share: number }[];
  readonly flow: {
    readonly columns: readonly (readonly { page: string; visits: number }[])[];
    readonly links: readonly { depth: number; from: string; to: string; visits: number }[];
  };
}

export interface JourneyAnswer {
  readonly page: string;
  readonly visits: number;
  readonly next: JourneyDirection;
  readonly previous: JourneyDirection;
  readonly meta: AnalysisMeta;
}

export interface RetentionAnswer {
  readonly cohorts: readonly { start: string; visitors: number; returning: number[]; shares: number[] }[];
  readonly meta: AnalysisMeta;
}

/** A funnel step: a saved goal by name, or a goal inline. */
export type FunnelStep = { goal: string } | { page: string } | { event: string };

/**
 * What a site's dashboard reads, whoever reads it: its owner through `/v1/sites/:id`, or a visitor of a
 * shared link through `/v1/shared`.
 */
export interface SiteStats {
  query(query: StatsQuery, signal?: AbortSignal): Promise<{ results: StatsRow[]; meta: StatsMeta }>;
  funnel(body: {
    steps: FunnelStep[];
    within: string;
    dateRange: string;
    filters: readonly Filter[];
  }): Promise<FunnelAnswer>;
  journeys(body: {
    page: string;
    depth: number;
    dateRange: string;
    filters: readonly Filter[];
  }): Promise<JourneyAnswer>;
  retention(body: {
    period: string;
    dateRange: string | readonly string[];
    filters: readonly Filter[];
  }): Promise<RetentionAnswer>;
}

/** A shared link, as its site's owner lists it. */
export interface SharedLink {
  readonly id: string;
  readonly name: string;
  readonly hint: string;
  readonly passwordProtected: boolean;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** A scheduled report, and one of its mails. */
export interface Report {
  readonly id: string;
  readonly frequency: string;
  readonly recipients: readonly string[];
  readonly nextAt: string;
}
export interface ReportMail {
  readonly id: string;
  readonly period: string;
  readonly status: string;
  readonly attempts: number;
  readonly sentAt: string | null;
  readonly error: string | null;
}

/** An import of another tool's export, and how far it has got. */
export interface Import {
  readonly id: string;
  readonly source: string;
  readonly status: string;
  readonly done: number;
  readonly total: number;
  readonly firstDay: string | null;
  readonly lastDay: string | null;
  readonly skippedDays: number;
  readonly error: string | null;
}

/** The analytics part of the Beacon API, as one token sees it. */
export class AnalyticsApi {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  /** Every site of the tenant, following the listing's pages. */
  async sites(signal?: AbortSignal): Promise<Site[]> {
    const all: Site[] = [];
    let next: string | null = null;
    do {
      const path: string = `/v1/sites${next ? `?after=${encodeURIComponent(next)}` : ''}`;
      const page = (await this.#call('GET', path, undefined, signal)) as {
        items: Site[];
        next: string | null;
      };
      all.push(...page.items);
      next = page.next;
    } while (next);
    return all;
  }

  async createSite(body: { domain: string; timezone: string; respectDnt: boolean }): Promise<Site> {
    return (await this.#call('POST', '/v1/sites', body)) as Site;
  }

  /** Changes only the fields given; answers the site as stored. */
  async updateSite(
    id: string,
    change: {
      domain?: string;
      allowedDomains?: string[];
      timezone?: string;
      respectDnt?: boolean;
      saltRotation?: string;
      currency?: string;
    },
  ): Promise<Site> {
    return (await this.#call('PATCH', `/v1/sites/${encodeURIComponent(id)}`, change)) as Site;
  }

  /** Deletes the site and everything projected for it; collection for it stops at once. */
  async deleteSite(id: string): Promise<void> {
    await this.#call('DELETE', `/v1/sites/${encodeURIComponent(id)}`);
  }

  async query(site: string, query: StatsQuery, signal?: AbortSignal): Promise<StatsRow[]> {
    return (await this.stats(site).query(query, signal)).results;
  }

  /** The site's dashboard reads, as its owner. */
  stats(site: string): SiteStats {
    const base = `/v1/sites/${encodeURIComponent(site)}`;
    return {
      query: (q, signal) => this.#call('POST', `${base}/query`, q, signal) as never,
      funnel: (body) => this.#call('POST', `${base}/funnel`, body) as Promise<FunnelAnswer>,
      journeys: (body) => this.#call('POST', `${base}/journeys`, body) as Promise<JourneyAnswer>,
      retention: (body) => this.#call('POST', `${base}/retention`, body) as Promise<RetentionAnswer>,
    };
  }

  /** A site's goals or segments. */
  async list<T>(
    site: string,
    what: 'goals' | 'segments' | 'shared-links' | 'reports' | 'imports',
  ): Promise<T[]> {
    return ((await this.#call('GET', `/v1/sites/${encodeURIComponent(site)}/${what}`)) as { items: T[] })
      .items;
  }

  /** Makes a goal, segment, shared link, report or import of a site; answers it. */
  async make<T>(
    site: string,
    what: 'goals' | 'segments' | 'shared-links' | 'reports' | 'imports',
    body: unknown,
  ): Promise<T> {
    return (await this.#call('POST', `/v1/sites/${encodeURIComponent(site)}/${what}`, body)) as T;
  }

  /** Deletes (or, for a shared link, revokes) one of a site's goals, segments, links, reports or imports. */
  async remove(site: string, what: string, id: string): Promise<void> {
    await this.#call('DELETE', `/v1/sites/${encodeURIComponent(site)}/${what}/${encodeURIComponent(id)}`);
  }

  /** Any other call under a site: a report's mails, sending it now, one import. */
  siteCall<T>(site: string, method: string, rest: string, body?: unknown): Promise<T> {
    return this.#call(method, `/v1/sites/${encodeURIComponent(site)}/${rest}`, body) as Promise<T>;
  }

  #call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    return callJson(this.#token, method, path, body, signal);
  }
}

/** What a shared link opens, as `GET /v1/shared` describes it. */
export interface SharedInfo {
  readonly name: string;
  readonly domain: string;
  readonly locked: boolean;
  readonly timezone?: string;
  readonly saltRotation?: string;
  readonly goals?: readonly { name: string; description: string }[];
  readonly segments?: readonly { id: string; name: string }[];
}

/** A site's dashboard through a shared link: the secret in a header, and an unlock token if it needs one. */
export class SharedApi implements SiteStats {
  readonly #secret: string;
  #token: string | undefined;

  constructor(secret: string) {
    this.#secret = secret;
  }

  info(): Promise<SharedInfo> {
    return this.#call('GET', '/v1/shared') as Promise<SharedInfo>;
  }

  /** Unlocks a password-protected link for this page. */
  async unlock(password: string): Promise<void> {
    this.#token = ((await this.#call('POST', '/v1/shared/unlock', { password })) as { token: string }).token;
  }

  query(q: StatsQuery, signal?: AbortSignal) {
    return this.#call('POST', '/v1/shared/query', q, signal) as Promise<{
      results: StatsRow[];
      meta: StatsMeta;
    }>;
  }
  funnel(body: Parameters<SiteStats['funnel']>[0]) {
    return this.#call('POST', '/v1/shared/funnel', body) as Promise<FunnelAnswer>;
  }
  journeys(body: Parameters<SiteStats['journeys']>[0]) {
    return this.#call('POST', '/v1/shared/journeys', body) as Promise<JourneyAnswer>;
  }
  retention(body: Parameters<SiteStats['retention']>[0]) {
    return this.#call('POST', '/v1/shared/retention', body) as Promise<RetentionAnswer>;
  }

  #call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { 'x-beacon-share': this.#secret };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    return callJson(headers, method, path, body, signal);
  }
}

/** The snippet a site owner pastes into every page. */
export function snippet(origin: string, site: string): string {
  return `<script defer src="${origin}/agent.js" data-site="${site}"></script>
<script>window.beacon = window.beacon || function () { (beacon.q = beacon.q || []).push(arguments) }</script>`;
}

/** `125`, `1.2k`, `3.4M`. */
export function compact(n: number): string {
  return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

/** `1m 05s` from seconds. */
export function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
}
