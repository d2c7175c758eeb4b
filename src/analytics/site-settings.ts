import { BeaconError } from '../errors/catalog.ts';
import type { Site } from './model.ts';
import { normalizeDomain } from './site-domains.ts';
import { isTimeZone } from './time-zone.ts';

/** The settings of a site a user may choose, at creation or in a change; absent fields are kept. */
export interface SiteSettings {
  readonly domain?: string | undefined;
  readonly allowedDomains?: readonly string[] | undefined;
  readonly timezone?: string | undefined;
  readonly respectDnt?: boolean | undefined;
}

const invalid = (message: string) => new BeaconError('SITE_INVALID', message);

/**
 * Applies `change` to `site`: domains are normalised as typed (`https://www.Example.com/` → `example.com`)
 * and deduplicated, the zone must be an IANA zone. Throws SITE_INVALID naming the first bad field.
 */
export function applySiteSettings(site: Site, change: SiteSettings): Site {
  let { domain, allowedDomains, timezone } = site;
  if (change.domain !== undefined) {
    const main = normalizeDomain(change.domain);
    if (!main) throw invalid(`domain ${JSON.stringify(change.domain)} is not a host name`);
    domain = main;
  }
  if (change.allowedDomains !== undefined) {
    allowedDomains = [
      ...new Set(
        change.allowedDomains.map((d) => {
          const n = normalizeDomain(d);
          if (!n) throw invalid(`allowed domain ${JSON.stringify(d)} is not a host name`);
          return n;
        }),
      ),
    ];
  }
  if (change.timezone !== undefined) {
    if (!isTimeZone(change.timezone))
      throw invalid(`timezone ${JSON.stringify(change.timezone)} is not an IANA zone`);
    timezone = change.timezone;
  }
  return { ...site, domain, allowedDomains, timezone, respectDnt: change.respectDnt ?? site.respectDnt };
}
