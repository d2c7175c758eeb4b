import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../errors/catalog.ts';
import { requireContentType, tokenOf } from '../http/auth.ts';
import type { RouteContext } from '../http/context.ts';
import type { AnalyticsStore } from './store/repositories.ts';
import { TokenBuckets } from '../http/rate-limit.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import type { OAuthClient, Site } from './model.ts';
import { parseCollect } from './collect-payload.ts';
import { Collector, type Sender } from './collector.ts';
import { CollectMetrics } from './metrics.ts';
import { looksLikeJwt, newOAuthClient, OAuthIssuer } from './oauth.ts';
import { registerAgentSocket } from './agent-socket.ts';
import { DATE_RANGES, INTERVALS, METRICS, runQuery } from './query.ts';
import { SiteDirectory } from './site-directory.ts';
import { applySiteSettings } from './site-settings.ts';

const AGENT_DIST = fileURLToPath(new URL('../../agent/dist/', import.meta.url));

const SiteBody = Type.Object(
  {
    id: Type.String(),
    domain: Type.String(),
    allowedDomains: Type.Array(Type.String()),
    timezone: Type.String(),
    respectDnt: Type.Boolean(),
    createdAt: IsoTime('When the site was created.'),
  },
  { $id: 'Site' },
);

const OAuthClientBody = Type.Object(
  {
    clientId: Type.String(),
    name: Type.String(),
    createdAt: IsoTime('When the client was made.'),
    revokedAt: Type.Union([IsoTime('When the client was revoked.'), Type.Null()]),
  },
  { $id: 'OAuthClient' },
);

const clientJson = (c: OAuthClient) => ({
  clientId: c.id,
  name: c.name,
  createdAt: new Date(c.createdAt).toISOString(),
  revokedAt: c.revokedAt === null ? null : new Date(c.revokedAt).toISOString(),
});

/** The settings fields `POST` and `PATCH /v1/sites` share; `when` says what an absent one means. */
const siteSettingFields = (when: string) => ({
  allowedDomains: Type.Optional(
    Type.Array(Type.String(), {
      maxItems: 50,
      description: `Further hosts the agent may send from; subdomains included (${when}).`,
    }),
  ),
  timezone: Type.Optional(Type.String({ description: `IANA zone days are counted in (${when}).` })),
  respectDnt: Type.Optional(Type.Boolean({ description: `Ignore browsers sending DNT or GPC (${when}).` })),
});

const siteJson = (s: Site) => ({
  id: s.id,
  domain: s.domain,
  allowedDomains: [...s.allowedDomains],
  timezone: s.timezone,
  respectDnt: s.respectDnt,
  createdAt: new Date(s.createdAt).toISOString(),
});

function senderOf(request: FastifyRequest): Sender {
  const h = request.headers;
  return {
    address: request.ip,
    userAgent: typeof h['user-agent'] === 'string' ? h['user-agent'] : '',
    origin: typeof h.origin === 'string' ? h.origin : undefined,
    optedOut: h.dnt === '1' || h['sec-gpc'] === '1',
    transport: 'http',
  };
}

function loadAgent(file: string): Buffer | undefined {
  const path = AGENT_DIST + file;
  return existsSync(path) ? readFileSync(path) : undefined;
}

/**
 * Web analytics (issue 5): the agent script, collection over HTTP and WebSocket, sites, OAuth2 client
 * credentials and the stats query API.
 */
export async function registerAnalyticsRoutes(
  base: FastifyInstance,
  ctx: RouteContext<AnalyticsStore>,
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { config, store, ingest, scope } = ctx;
  const settings = config.analytics;
  const secret = await store.transaction((tx) => tx.analytics.secret(randomBytes(32).toString('base64url')));
  const sites = new SiteDirectory(store.analytics);
  const collector = new Collector({
    sites,
    ingest,
    secret,
    metrics: new CollectMetrics(ctx.metrics),
    limits: settings,
  });
  const oauth = new OAuthIssuer(secret, settings.tokenTtlSeconds, store.analytics);
  const oauthBuckets = new TokenBuckets(config.rateLimit);
  const readScope = scope('read');

  /** Stats routes take a tenant token with `read`, or an OAuth2 access token. */
  const statsAuth = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = tokenOf(request);
    if (token && looksLikeJwt(token)) {
      const principal = await oauth.verify(token);
      if (!principal) throw new BeaconError('TOKEN_INVALID', 'the access token is not valid or has expired');
      const wait = oauthBuckets.take(principal.tokenId);
      if (wait > 0) throw new BeaconError('RATE_LIMITED', undefined, { retryAfter: wait });
      request.principal = principal;
      return;
    }
    await readScope(request, reply);
  };

  /** The site, if the caller's tenant owns it; another tenant's site is reported as unknown. */
  const ownedSite = async (request: FastifyRequest, id: string): Promise<Site> => {
    const site = await store.analytics.site(id);
    if (!site || site.tenant !== request.principal!.tenant)
      throw new BeaconError('SITE_UNKNOWN', `no site ${id}`);
    return site;
  };

  const agents = { 'agent.js': loadAgent('agent.js'), 'agent.mjs': loadAgent('agent.mjs') };
  for (const [file, body] of Object.entries(agents)) {
    app.get(`/${file}`, { schema: { hide: true } }, (_request, reply) => {
      if (!body) throw new BeaconError('ROUTE_NOT_FOUND', 'the agent is not built: run npm run build');
      return reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .header('access-control-allow-origin', '*')
        .send(body);
    });
  }

  await app.register((scoped, _opts, done) => {
    // text/plain keeps the agent's request "simple": no CORS preflight. The body is JSON either way.
    scoped.removeContentTypeParser('text/plain');
    scoped.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, next) => {
      try {
        next(null, JSON.parse(body as string));
      } catch {
        next(new BeaconError('BAD_JSON', 'the collect body is not valid JSON'));
      }
    });
    scoped.withTypeProvider<TypeBoxTypeProvider>().post(
      '/v1/collect',
      {
        onRequest: [
          (request, _reply, next) => {
            try {
              collector.limitAddress(request.ip);
              next();
            } catch (err) {
              next(err as Error);
            }
          },
          requireContentType('text/plain', 'application/json'),
        ],
        bodyLimit: settings.collectMaxBytes,
        // Request logs carry the client address; collection must never store it, so they are off here.
        logLevel: 'silent',
        schema: {
          tags: ['analytics'],
          summary: 'Collect page views and custom events (the agent calls this)',
          description:
            'No token: the site id in the body, checked against the site\'s domains, identifies the tenant. Body `{"s": SITE, "e": [{"n": "pageview"|name, "u": url, "r": referrer, "p": {props}, "a": age ms, "i": event id}]}` as text/plain (no CORS preflight) or JSON. Bots and, for sites that respect them, DNT/GPC browsers are answered 202 and ignored. Rate-limited per client address and per site. 202 means durably in the log.',
          body: Type.Unknown(),
          response: {
            202: Type.Object({ accepted: Type.Integer(), ignored: Type.Integer() }),
            ...errorResponses(400, 403, 404, 413, 415, 429, 503),
          },
        },
      },
      async (request, reply) => {
        void reply.header('access-control-allow-origin', '*');
        const payload = parseCollect(request.body, settings.collectMaxEvents);
        const result = await collector.collect(payload, senderOf(request));
        return reply.code(202).send(result);
      },
    );
    scoped.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, next) => next(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scoped.withTypeProvider<TypeBoxTypeProvider>().post(
      '/oauth/token',
      {
        onRequest: requireContentType('application/x-www-form-urlencoded', 'application/json'),
        schema: {
          tags: ['analytics'],
          summary: 'OAuth2 client-credentials token',
          description:
            "RFC 6749 §4.4: `grant_type=client_credentials` with `client_id` and `client_secret` (form or JSON body, or HTTP Basic). Returns a short-lived JWT that the stats API accepts as a bearer token for the client's tenant.",
          body: Type.Object({
            grant_type: Type.Optional(Type.String()),
            client_id: Type.Optional(Type.String()),
            client_secret: Type.Optional(Type.String()),
          }),
          response: {
            200: Type.Object({
              access_token: Type.String(),
              token_type: Type.Literal('Bearer'),
              expires_in: Type.Integer(),
            }),
            ...errorResponses(400, 401, 415),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (body.grant_type !== 'client_credentials') throw new BeaconError('OAUTH_UNSUPPORTED_GRANT');
        let id = body.client_id;
        let clientSecret = body.client_secret;
        const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        if (basic) {
          const [u, p] = Buffer.from(basic, 'base64').toString().split(':');
          id = decodeURIComponent(u ?? '');
          clientSecret = decodeURIComponent(p ?? '');
        }
        if (!id || !clientSecret)
          throw new BeaconError('OAUTH_INVALID_CLIENT', 'client_id and client_secret are required');
        const { token, expiresIn } = await oauth.issue(id, clientSecret);
        return reply
          .header('cache-control', 'no-store')
          .send({ access_token: token, token_type: 'Bearer' as const, expires_in: expiresIn });
      },
    );
    done();
  });

  registerAgentSocket(app, {
    collector,
    maxBytes: settings.collectMaxBytes,
    maxEvents: settings.collectMaxEvents,
  });

  app.post(
    '/v1/sites',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Create a site',
        description: "A site belongs to the token's tenant. Its id goes in the agent snippet's `data-site`.",
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            domain: Type.String({ description: 'Main host, e.g. example.com.' }),
            ...siteSettingFields('default none; UTC; false'),
          },
          { additionalProperties: false },
        ),
        response: { 201: SiteBody, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const site = applySiteSettings(
        {
          id: 'st_' + randomBytes(9).toString('base64url'),
          tenant: request.principal!.tenant,
          domain: '',
          allowedDomains: [],
          timezone: 'UTC',
          respectDnt: false,
          createdAt: Date.now(),
        },
        request.body,
      );
      await store.transaction((tx) => tx.analytics.createSite(site));
      sites.forget(site.id);
      return reply.code(201).send(siteJson(site));
    },
  );

  app.get(
    '/v1/sites',
    {
      onRequest: statsAuth,
      schema: {
        tags: ['analytics'],
        summary: "List the tenant's sites",
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ items: Type.Array(SiteBody) }), ...errorResponses(401, 403, 429) },
      },
    },
    async (request) => ({ items: (await store.analytics.sites(request.principal!.tenant)).map(siteJson) }),
  );

  app.get(
    '/v1/sites/:id',
    {
      onRequest: statsAuth,
      schema: {
        tags: ['analytics'],
        summary: 'One site',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        response: { 200: SiteBody, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => siteJson(await ownedSite(request, request.params.id)),
  );

  app.patch(
    '/v1/sites/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "Change a site's settings",
        description:
          "Only the fields sent change. Domains take effect for collection at once in this process and within 5 s in other API processes. Rollups are bucketed in the site's zone when projected: after a zone change, days already projected keep the old zone until `beacon reprocess` rebuilds them.",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        body: Type.Object(
          {
            domain: Type.Optional(Type.String({ description: 'Main host, e.g. example.com.' })),
            ...siteSettingFields('unchanged when absent'),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SiteBody, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { tenant } = request.principal!;
      const changed = await store.transaction(async (tx) => {
        const site = await tx.analytics.site(request.params.id);
        if (!site || site.tenant !== tenant)
          throw new BeaconError('SITE_UNKNOWN', `no site ${request.params.id}`);
        const next = applySiteSettings(site, request.body);
        await tx.analytics.updateSite(next);
        return next;
      });
      sites.forget(changed.id);
      return siteJson(changed);
    },
  );

  app.delete(
    '/v1/sites/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Delete a site and its data',
        description:
          "Collection for the site stops at once in this process and within 5 s in other API processes (`SITE_UNKNOWN`). Its projected data (events, sessions, rollups) is deleted in the same transaction and cannot be recovered; records of it still in the log until log retention are never projected again. Another tenant's site answers 404.",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const deleted = await store.transaction((tx) => tx.analytics.deleteSite(request.principal!.tenant, id));
      // After the commit: a collect that looked the site up while the delete ran has cached it again.
      sites.forget(id);
      if (!deleted) throw new BeaconError('SITE_UNKNOWN', `no site ${id}`);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/oauth/clients',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Create an OAuth2 client for the tenant',
        description:
          'The secret is shown once. Exchange the pair at `POST /oauth/token` for a short-lived access token.',
        security: [{ bearer: [] }],
        body: Type.Object({ name: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: {
          201: Type.Object({ clientId: Type.String(), clientSecret: Type.String(), tenant: Type.String() }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const { client, secret: clientSecret } = newOAuthClient(
        request.principal!.tenant,
        request.body.name ?? 'client',
      );
      await store.transaction((tx) => tx.analytics.createOAuthClient(client));
      return reply.code(201).send({ clientId: client.id, clientSecret, tenant: client.tenant });
    },
  );

  app.get(
    '/v1/oauth/clients',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "List the tenant's OAuth2 clients",
        description: 'Revoked clients are listed with `revokedAt`. Secrets are never shown again.',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ items: Type.Array(OAuthClientBody) }),
          ...errorResponses(401, 403, 429),
        },
      },
    },
    async (request) => ({
      items: (await store.analytics.oauthClients(request.principal!.tenant)).map(clientJson),
    }),
  );

  app.delete(
    '/v1/oauth/clients/:id',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Revoke an OAuth2 client',
        description:
          "The client can no longer obtain tokens, and the access tokens it holds are refused at once by this process and within 5 s by other API processes. Revoking again changes nothing. Another tenant's client answers 404.",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const revoked = await store.transaction((tx) =>
        tx.analytics.revokeOAuthClient(request.principal!.tenant, id, Date.now()),
      );
      if (!revoked) throw new BeaconError('OAUTH_CLIENT_UNKNOWN', `no OAuth2 client ${id}`);
      oauth.forget(id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/sites/:id/query',
    {
      onRequest: statsAuth,
      schema: {
        tags: ['analytics'],
        summary: "Query a site's stats",
        description: `In the spirit of Plausible's Stats API v2. Metrics: ${METRICS.join(', ')}. Dimensions: event:page, event:name, event:props:KEY, visit:entry_page, visit:exit_page, visit:source, visit:referrer, visit:utm_source, visit:utm_medium, visit:utm_campaign, visit:device, visit:browser, visit:os. Filters: [op, dimension, [values]] with op is, is_not or contains. dateRange: ${DATE_RANGES.join(', ')} or [from, to] local dates. Intervals (${INTERVALS.join(', ')}) and days are in the site's time zone. Unfiltered queries read pre-aggregated rollups; the answer's meta.source says which. Closed periods carry Cache-Control max-age=3600; open ones no-store.`,
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        body: Type.Object({
          metrics: Type.Array(Type.String(), { minItems: 1, maxItems: 10 }),
          dimensions: Type.Optional(Type.Array(Type.String(), { maxItems: 2 })),
          filters: Type.Optional(
            Type.Array(
              Type.Tuple([Type.String(), Type.String(), Type.Array(Type.String(), { maxItems: 100 })]),
              {
                maxItems: 20,
              },
            ),
          ),
          dateRange: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 2, maxItems: 2 })]),
          interval: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
        }),
        response: {
          200: Type.Object({
            results: Type.Array(
              Type.Object({ dimensions: Type.Array(Type.String()), metrics: Type.Array(Type.Number()) }),
            ),
            meta: Type.Object({ source: Type.String(), timezone: Type.String(), closed: Type.Boolean() }),
            query: Type.Object({
              metrics: Type.Array(Type.String()),
              dimensions: Type.Array(Type.String()),
              dateRange: Type.Array(Type.String()),
              interval: Type.Union([Type.String(), Type.Null()]),
            }),
          }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(request, request.params.id);
      const result = await runQuery(store.analytics, site, request.body);
      // A closed period cannot change (short of a reprocess), so a CDN may keep it for up to an hour.
      void reply
        .header('cache-control', result.meta.closed ? 'public, max-age=3600' : 'no-store')
        .header('vary', 'authorization');
      return result;
    },
  );
}
