import { BeaconError } from '../errors/catalog.ts';
import type { Site } from './model.ts';
import { CURRENCY } from './revenue.ts';
import { normalizeDomain } from './site-domains.ts';
import { isTimeZone } from './time-zone.ts';

/** The settings of a site a user may choose, at creation or in a change; absent fields are kept. */
export interface SiteSettings {
  readonly domain?: string | undefined;
  readonly allowedDomains?: readonly string[] | undefined;
  readonly timezone?: string | undefined;
  readonly respectDnt?: boolean | undefined;
  readonly saltRotation?: string | undefined;
  readonly currency?: string | undefined;
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
  let { saltRotation, currency } = site;
  if (change.saltRotation !== undefined) {
    if (change.saltRotation !== 'daily' && change.saltRotation !== 'monthly')
      throw invalid('saltRotation must be daily or monthly');
    saltRotation = change.saltRotation;
  }
  if (change.currency !== undefined) {
    if (!CURRENCY.test(change.currency))
      throw invalid(`currency ${JSON.stringify(change.currency)} is not an ISO 4217 code such as EUR`);
    currency = change.currency;
  }
  return {
    ...site,
    domain,
    allowedDomains,
    timezone,
    respectDnt: change.respectDnt ?? site.respectDnt,
    saltRotation,
    currency,
  };
}
