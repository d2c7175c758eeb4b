import type { Site } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';

const TTL_MS = 5000;

/**
 * Sites by id for the collect path, cached for a few seconds so a page view does not cost a store
 * query; a site created elsewhere is seen within that time, one created here at once.
 */
export class SiteDirectory {
  readonly #reader: AnalyticsReader;
  readonly #cache = new Map<string, { site: Site | undefined; expires: number }>();

  constructor(reader: AnalyticsReader) {
    this.#reader = reader;
  }

  async get(id: string): Promise<Site | undefined> {
    const now = Date.now();
    const hit = this.#cache.get(id);
    if (hit && hit.expires > now) return hit.site;
    const site = await this.#reader.site(id);
    if (this.#cache.size > 100_000) this.#cache.clear();
    this.#cache.set(id, { site, expires: now + TTL_MS });
    return site;
  }

  /** Forgets a cached answer (after creating or changing a site here). */
  forget(id: string): void {
    this.#cache.delete(id);
  }
}
