import { callJson } from './api.ts';

/** A site, as `GET /v1/sites` lists it. */
export interface Site {
  readonly id: string;
  readonly domain: string;
  readonly allowedDomains: readonly string[];
  readonly timezone: string;
  readonly respectDnt: boolean;
  readonly createdAt: string;
}

/** One row of a stats answer: dimension values (time bucket first), then one number per metric. */
export interface StatsRow {
  readonly dimensions: readonly string[];
  readonly metrics: readonly number[];
}

export interface StatsQuery {
  readonly metrics: readonly string[];
  readonly dimensions?: readonly string[];
  readonly dateRange: string | readonly [string, string];
  readonly interval?: string;
  readonly limit?: number;
}

/** The analytics part of the Beacon API, as one token sees it. */
export class AnalyticsApi {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  async sites(signal?: AbortSignal): Promise<Site[]> {
    return ((await this.#call('GET', '/v1/sites', undefined, signal)) as { items: Site[] }).items;
  }

  async createSite(body: { domain: string; timezone: string; respectDnt: boolean }): Promise<Site> {
    return (await this.#call('POST', '/v1/sites', body)) as Site;
  }

  /** Changes only the fields given; answers the site as stored. */
  async updateSite(
    id: string,
    change: { domain?: string; allowedDomains?: string[]; timezone?: string; respectDnt?: boolean },
  ): Promise<Site> {
    return (await this.#call('PATCH', `/v1/sites/${encodeURIComponent(id)}`, change)) as Site;
  }

  /** Deletes the site and everything projected for it; collection for it stops at once. */
  async deleteSite(id: string): Promise<void> {
    await this.#call('DELETE', `/v1/sites/${encodeURIComponent(id)}`);
  }

  async query(site: string, query: StatsQuery, signal?: AbortSignal): Promise<StatsRow[]> {
    return (
      (await this.#call('POST', `/v1/sites/${encodeURIComponent(site)}/query`, query, signal)) as {
        results: StatsRow[];
      }
    ).results;
  }

  #call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    return callJson(this.#token, method, path, body, signal);
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
