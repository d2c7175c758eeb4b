import { BeaconError } from '../errors/catalog.ts';
import { TokenBuckets } from '../http/rate-limit.ts';
import type { Ingest, Signal } from '../ingest/ingest.ts';
import type { CollectPayload } from './collect-payload.ts';
import type { CollectMetrics } from './metrics.ts';
import type { PageviewBody } from './projection.ts';
import type { SiteDirectory } from './site-directory.ts';
import { hostAllowed } from './site-domains.ts';
import { isBot } from './user-agent.ts';
import { formatAmount } from './revenue.ts';
import { saltPeriod, visitorSalt, visitorId } from './visitor.ts';

/** What the transport knows about the sender; the address is hashed and then forgotten. */
export interface Sender {
  readonly address: string;
  readonly userAgent: string;
  /** The Origin header, when the browser sent one. */
  readonly origin: string | undefined;
  /** Do Not Track (`DNT: 1`) or Global Privacy Control (`Sec-GPC: 1`). */
  readonly optedOut: boolean;
  readonly transport: 'http' | 'websocket';
}

/** Collection's rate limits: collect requests per second and burst, per site and per client address. */
export interface CollectLimits {
  readonly sitePerSecond: number;
  readonly siteBurst: number;
  readonly addressPerSecond: number;
  readonly addressBurst: number;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/**
 * The collection rules shared by `POST /v1/collect` and the agent WebSocket: rate limits per client
 * address and per site, the site's domains, bots, DNT/GPC, and the cookieless visitor id. Accepted events
 * are appended to the `pageviews` stream; the answer says how many were accepted and ignored.
 */
export class Collector {
  readonly #sites: SiteDirectory;
  readonly #ingest: Ingest;
  readonly #secret: string;
  readonly #metrics: CollectMetrics;
  readonly #bySite: TokenBuckets;
  readonly #byAddress: TokenBuckets;
  readonly #tenantDisabled: (tenant: string) => Promise<boolean>;
  /** Salts of the periods seen lately, derived once each (an HMAC and a date format per request add up). */
  readonly #salts = new Map<string, string>();

  constructor(options: {
    sites: SiteDirectory;
    ingest: Ingest;
    secret: string;
    metrics: CollectMetrics;
    limits: CollectLimits;
    /** True when the site's tenant was disabled by an operator: its events are refused. */
    tenantDisabled?: (tenant: string) => Promise<boolean>;
  }) {
    this.#tenantDisabled = options.tenantDisabled ?? (() => Promise.resolve(false));
    this.#sites = options.sites;
    this.#ingest = options.ingest;
    this.#secret = options.secret;
    this.#metrics = options.metrics;
    this.#bySite = new TokenBuckets({
      perSecond: options.limits.sitePerSecond,
      burst: options.limits.siteBurst,
    });
    this.#byAddress = new TokenBuckets({
      perSecond: options.limits.addressPerSecond,
      burst: options.limits.addressBurst,
    });
  }

  /** Applies the address limit first: it is the cheapest check and stops a flood before any work. */
  limitAddress(address: string): void {
    const wait = this.#byAddress.take(address);
    if (wait > 0)
      throw new BeaconError('RATE_LIMITED', 'too many collect requests from this address', {
        retryAfter: wait,
      });
  }

  async collect(payload: CollectPayload, sender: Sender): Promise<{ accepted: number; ignored: number }> {
    const site = await this.#sites.get(payload.site);
    if (!site) throw new BeaconError('SITE_UNKNOWN', `no site ${payload.site}`);
    if (await this.#tenantDisabled(site.tenant)) throw new BeaconError('TENANT_DISABLED');
    const wait = this.#bySite.take(site.id);
    if (wait > 0)
      throw new BeaconError('RATE_LIMITED', 'too many collect requests for this site', { retryAfter: wait });
    const domains = [site.domain, ...site.allowedDomains];
    const originHost = sender.origin && sender.origin !== 'null' ? hostOf(sender.origin) : undefined;
    if (originHost !== undefined && !hostAllowed(originHost, domains)) {
      throw new BeaconError('SITE_DOMAIN_DENIED', `origin ${originHost} is not allowed for site ${site.id}`);
    }
    // A batch's events nearly always come from one page host: check each distinct host once.
    const allowed = new Set<string>();
    for (const e of payload.events) {
      const host = hostOf(e.url);
      if (host !== undefined && allowed.has(host)) continue;
      if (host === undefined || !hostAllowed(host, domains)) {
        throw new BeaconError('SITE_DOMAIN_DENIED', `${host ?? e.url} is not allowed for site ${site.id}`);
      }
      allowed.add(host);
    }
    const n = payload.events.length;
    if (isBot(sender.userAgent)) {
      this.#metrics.events.inc({ outcome: 'bot', transport: sender.transport }, n);
      return { accepted: 0, ignored: n };
    }
    if (site.respectDnt && sender.optedOut) {
      this.#metrics.events.inc({ outcome: 'dnt', transport: sender.transport }, n);
      return { accepted: 0, ignored: n };
    }
    const now = Date.now();
    const ua = sender.userAgent.slice(0, 500);
    // Every event of a request has the same visitor, unless its age puts it in another salt period.
    let visitor = { period: '', id: '' };
    const signals: Signal[] = payload.events.map((e) => {
      const ts = now - e.ageMs;
      const period = saltPeriod(site.saltRotation, ts);
      if (visitor.period !== period)
        visitor = { period, id: visitorId(this.#saltFor(period), site.id, sender.address, sender.userAgent) };
      const body: PageviewBody = {
        site: site.id,
        visitor: visitor.id,
        name: e.name,
        url: e.url,
        referrer: e.referrer,
        ua,
        props: e.props,
        ...(e.revenue && {
          revenue: { amount: formatAmount(e.revenue.milli), currency: e.revenue.currency },
        }),
      };
      return {
        tenant: site.tenant,
        entity: site.id,
        key: e.id === undefined ? undefined : `${site.id}:${e.id}`,
        ts,
        body,
      };
    });
    await this.#ingest.accept('pageviews', signals);
    this.#metrics.events.inc({ outcome: 'accepted', transport: sender.transport }, n);
    return { accepted: n, ignored: 0 };
  }

  /** The salt of a period (`2026-11-23` or `2026-11`), derived once. */
  #saltFor(period: string): string {
    let salt = this.#salts.get(period);
    if (salt === undefined) {
      // A few periods are live at once (today, yesterday for late events, this month): keep a handful.
      if (this.#salts.size > 8) this.#salts.clear();
      this.#salts.set(period, (salt = visitorSalt(this.#secret, period)));
    }
    return salt;
  }
}
