/** Where a visit came from: the referrer's host, a named source, and the UTM parameters. */
export interface VisitSource {
  /** `Google`, `Twitter`, a utm_source, a host, or `Direct / None`. */
  readonly source: string;
  /** The referring URL without query or fragment, or empty for none. */
  readonly referrer: string;
  readonly utmSource: string;
  readonly utmMedium: string;
  readonly utmCampaign: string;
}

/** The source of a visit with no utm_source (or ref) and no referrer from another site. */
export const DIRECT = 'Direct / None';

/** Well-known referrer hosts, by suffix, and the name the dashboard shows. */
const KNOWN: readonly [suffix: string, name: string][] = [
  ['google.', 'Google'],
  ['bing.com', 'Bing'],
  ['duckduckgo.com', 'DuckDuckGo'],
  ['yahoo.com', 'Yahoo!'],
  ['baidu.com', 'Baidu'],
  ['yandex.', 'Yandex'],
  ['ecosia.org', 'Ecosia'],
  ['t.co', 'Twitter'],
  ['twitter.com', 'Twitter'],
  ['x.com', 'Twitter'],
  ['facebook.com', 'Facebook'],
  ['instagram.com', 'Instagram'],
  ['linkedin.com', 'LinkedIn'],
  ['lnkd.in', 'LinkedIn'],
  ['reddit.com', 'Reddit'],
  ['news.ycombinator.com', 'Hacker News'],
  ['github.com', 'GitHub'],
  ['youtube.com', 'YouTube'],
];

function knownName(host: string): string | undefined {
  for (const [suffix, name] of KNOWN) {
    if (suffix.endsWith('.')) {
      if (host.startsWith(suffix) || host.includes(`.${suffix}`)) return name;
    } else if (host === suffix || host.endsWith(`.${suffix}`)) return name;
  }
  return undefined;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

const clip = (s: string | null) => (s ?? '').trim().slice(0, 200);

/**
 * Takes source and UTM parameters from the page URL and the referrer. A referrer on one of the site's
 * own hosts is internal navigation, not a source. `utm_source` (or `ref`) wins over the referrer.
 */
export function parseSource(pageUrl: string, referrer: string, ownHosts: readonly string[]): VisitSource {
  const page = parseUrl(pageUrl);
  const params = page?.searchParams;
  const utmSource = clip(params?.get('utm_source') ?? params?.get('ref') ?? null);
  const utmMedium = clip(params?.get('utm_medium') ?? null);
  const utmCampaign = clip(params?.get('utm_campaign') ?? null);
  const ref = referrer ? parseUrl(referrer) : undefined;
  const host = ref?.hostname.replace(/^www\./, '').toLowerCase() ?? '';
  const internal = host !== '' && ownHosts.some((h) => host === h || host.endsWith(`.${h}`));
  const refText = ref && !internal && (ref.protocol === 'http:' || ref.protocol === 'https:') ? host : '';
  const source = utmSource || (refText ? (knownName(refText) ?? refText) : DIRECT);
  return {
    source,
    referrer: refText && ref ? `${ref.origin.replace(/^https?:\/\/(www\.)?/, '')}${ref.pathname}` : '',
    utmSource,
    utmMedium,
    utmCampaign,
  };
}

/** The path the dashboard groups pages by: pathname only (no query), hash routes kept. */
export function pagePath(pageUrl: string): string {
  const url = parseUrl(pageUrl);
  if (!url) return '/';
  const hashRoute = url.hash.startsWith('#/') ? url.hash : '';
  return (url.pathname + hashRoute).slice(0, 500) || '/';
}
