/**
 * A site's domains: which hosts belong to it (collection checks each page's and Origin's host), and
 * domains as users type them (normalised when a site is created or changed).
 */

/** True when `host` is `domain` or one of its subdomains. */
const under = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** True when `host` (a page's or an Origin's) belongs to the site. */
export function hostAllowed(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^www\./, '');
  return domains.some((d) => under(h, d));
}

/** Normalises a domain as typed by a user (`https://www.Example.com/` → `example.com`). */
export function normalizeDomain(text: string): string | undefined {
  const trimmed = text
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/\/.*$/, '')
    .replace(/:\d+$/, '')
    .replace(/^www\./, '');
  return /^(?=.{1,253}$)([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}(:\d{1,5})?$/.test(trimmed) ? trimmed : undefined;
}
