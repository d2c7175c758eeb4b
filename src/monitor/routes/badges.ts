import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { TokenBuckets } from '../../http/rate-limit.ts';
import { errorResponses } from '../../http/schemas.ts';
import { badgeTokenTenant } from '../../tenants/badge-tokens.ts';
import type { TenantRepositories } from '../../tenants/store/repositories.ts';
import {
  BADGE_KINDS,
  certFace,
  responseFace,
  statusFace,
  UPTIME_DAYS,
  uptimeFace,
  type BadgeKind,
} from '../badge.ts';
import { badgeSvg, type BadgeFace } from '../badge-svg.ts';
import { summarize } from '../rollup.ts';
import type { MonitorReader, MonitorStore } from '../store/repositories.ts';
import { TARGET_ID, type Target } from '../target.ts';
import { targetState } from './targets.ts';

/**
 * Whether the public status page `slug` lists the target `targetId`, and whose page it is; undefined
 * when there is no such public page or it does not list the target. `registerMonitorRoutes` answers
 * it from the status pages (status/view.ts `pageShows`: the page's groups within its cap, its tenant
 * enabled).
 */
export type PublicPageShows = (slug: string, targetId: string) => Promise<{ tenant: string } | undefined>;

/** No public page shows any target: badges open with a token only. */
export const NO_PUBLIC_PAGES: PublicPageShows = () => Promise.resolve(undefined);

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** How many of a target's newest checks the certificate badge looks through for a recorded expiry. */
const CERT_LOOKBACK = 20;
/** Badges are fetched again by every README view (through caching proxies such as GitHub's): short. */
const CACHE_CONTROL = 'public, max-age=60';

/** Uptime and average response of a target over the last `days` days, from rollups (all regions). */
async function rollupTotal(reader: MonitorReader, target: Target, days: number, now: number) {
  // As the target list computes it: hours for a day, whole UTC days (today's included) beyond.
  const size = days === 1 ? 'hour' : 'day';
  const from = days === 1 ? now - DAY - (now % HOUR) : now - days * DAY - (now % DAY);
  const rollups = await reader.rollups({ tenant: target.tenant, target: target.id, size, from, to: now + 1 });
  return summarize(rollups, { tenant: target.tenant, target: target.id, size }).total;
}

/** What a badge of `kind` says of the target now. */
async function faceOf(
  reader: MonitorReader,
  target: Target,
  kind: BadgeKind,
  period: '24h' | 'last',
  now: number,
): Promise<BadgeFace> {
  const { tenant, id } = target;
  switch (kind) {
    case 'status': {
      const [last] = await reader.listChecks({ tenant, target: id, limit: 1 });
      return statusFace(targetState(target, last));
    }
    case 'response': {
      if (period === 'last') {
        const [last] = await reader.listChecks({ tenant, target: id, limit: 1 });
        return responseFace('last', last?.durationMs ?? null);
      }
      return responseFace('24h', (await rollupTotal(reader, target, 1, now)).latencyMs.avg);
    }
    case 'cert': {
      const checks = await reader.listChecks({ tenant, target: id, limit: CERT_LOOKBACK });
      return certFace(checks.find((c) => c.tlsExpiresAt !== null)?.tlsExpiresAt ?? null, now);
    }
    default:
      return uptimeFace(kind, (await rollupTotal(reader, target, UPTIME_DAYS[kind], now)).uptime);
  }
}

/**
 * The tenant a badge request opens `targetId` in, or undefined: the badge token's tenant, else the
 * tenant of the public status page named by `page` when that page lists the target.
 */
export async function openingTenant(
  query: { readonly token?: string; readonly page?: string },
  targetId: string,
  tokenTenant: (secret: string) => Promise<string | undefined>,
  publicPageShows: PublicPageShows,
): Promise<string | undefined> {
  const byToken = query.token === undefined ? undefined : await tokenTenant(query.token);
  if (byToken !== undefined) return byToken;
  return query.page === undefined ? undefined : (await publicPageShows(query.page, targetId))?.tenant;
}

/**
 * `/badge/{target}/{kind}.svg`: a target's badges as SVG, for READMEs and wikis, which cannot send a
 * bearer header. A badge is opened by the tenant's badge token (`?token=`), or by a public status page
 * that lists the target (`?page=`, answered by `publicPageShows`). Whatever is wrong (no such target,
 * a wrong, rotated or revoked token, another tenant's target) the answer is the same 404, so a badge
 * URL tells nothing of what other tenants have.
 */
export function registerBadgeRoutes(
  base: FastifyInstance,
  ctx: RouteContext<MonitorStore & TenantRepositories>,
  publicPageShows: PublicPageShows = NO_PUBLIC_PAGES,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;
  const reader = store.monitor;
  const tokenTenant = (secret: string) => badgeTokenTenant(store.badgeTokens, secret);
  // Per client address, before any lookup: a client guessing tokens or target ids is slowed alone.
  const perMinute = ctx.config.monitor.badges.rateLimitPerMinute;
  const buckets = new TokenBuckets({ perSecond: perMinute / 60, burst: perMinute });

  app.get(
    '/badge/:target/:kind.svg',
    {
      logLevel: 'warn',
      schema: {
        tags: ['monitor'],
        summary: 'A target’s badge (SVG)',
        description:
          'A flat shields.io-style badge: `status` (up, down, degraded, maintenance, pending, paused), `uptime-24h`, `uptime-7d`, `uptime-30d` and `uptime-90d` (percent from rollups, two decimals, rounded down), `response` (average over 24 hours, or with `period=last` the last check) and `cert` (days until the latest recorded certificate expires). Colours are Uptime Kuma’s. No bearer header: `token` is the tenant’s badge token (`POST /v1/badge-token`); `page` names a public status page that shows the target. A wrong token, an unknown target and another tenant’s target are all BADGE_NOT_FOUND. Rate-limited per client address (`monitor.badges.rateLimitPerMinute`). Cached for 60 s, with an ETag.',
        security: [],
        params: Type.Object({
          target: Type.String({ pattern: TARGET_ID.source, description: 'Target id.' }),
          kind: Type.Enum(BADGE_KINDS, { description: 'Which badge.' }),
        }),
        querystring: Type.Object({
          token: Type.Optional(
            Type.String({ minLength: 1, maxLength: 128, description: 'The tenant’s badge token.' }),
          ),
          page: Type.Optional(
            Type.String({
              pattern: '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$',
              description: 'Slug of a public status page that lists the target.',
            }),
          ),
          label: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 40,
              pattern: '^[^\\u0000-\\u001f\\u007f]+$',
              description: 'Text for the left side instead of the badge’s own (no control characters).',
            }),
          ),
          period: Type.Optional(
            Type.Union([Type.Literal('24h'), Type.Literal('last')], {
              description: 'response only: the 24-hour average (default) or the last check.',
            }),
          ),
        }),
        response: {
          200: {
            description: 'The badge.',
            content: { 'image/svg+xml': { schema: Type.String() } },
          },
          304: { description: 'Not modified (If-None-Match named the current ETag).', type: 'null' },
          ...errorResponses(400, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const wait = buckets.take(request.ip);
      if (wait > 0) throw new BeaconError('BADGE_RATE_LIMITED', undefined, { retryAfter: wait });
      const { target: targetId, kind } = request.params;
      const tenant = await openingTenant(request.query, targetId, tokenTenant, publicPageShows);
      const target = tenant === undefined ? undefined : await reader.getTarget(tenant, targetId);
      if (!target || (await ctx.authenticator.tenantDisabled(target.tenant))) {
        throw new BeaconError('BADGE_NOT_FOUND');
      }
      const face = await faceOf(reader, target, kind, request.query.period ?? '24h', Date.now());
      const svg = badgeSvg({ ...face, label: request.query.label ?? face.label });
      const etag = `"${createHash('sha256').update(svg).digest('base64url').slice(0, 27)}"`;
      void reply.header('cache-control', CACHE_CONTROL).header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
      return reply.type('image/svg+xml; charset=utf-8').send(svg);
    },
  );
}
