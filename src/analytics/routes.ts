import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.ts';
import { TokenBuckets } from '../http/rate-limit.ts';
import { Collector } from './collector.ts';
import { CollectMetrics } from './metrics.ts';
import { OAuthIssuer } from './oauth.ts';
import { registerAgentScript } from './routes/agent-script.ts';
import { registerAgentSocket } from './routes/agent-socket.ts';
import { registerCollect } from './routes/collect.ts';
import { registerOAuthClients } from './routes/oauth-clients.ts';
import { registerOAuthToken } from './routes/oauth-token.ts';
import { registerSites } from './routes/sites.ts';
import { statsAuth } from './routes/stats-access.ts';
import { registerStatsQuery } from './routes/stats-query.ts';
import { SiteDirectory } from './site-directory.ts';
import type { AnalyticsStore } from './store/repositories.ts';

/**
 * Web analytics (issue 5): the agent script, collection over HTTP and WebSocket, sites, OAuth2 client
 * credentials and the stats query API, one file per resource in `routes/`. They share the server
 * secret (visitor salts and access tokens derive from it), the collection rules, the site cache and
 * the OAuth2 issuer made here.
 */
export async function registerAnalyticsRoutes(
  app: FastifyInstance,
  ctx: RouteContext<AnalyticsStore>,
): Promise<void> {
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
    tenantDisabled: (tenant) => ctx.authenticator.tenantDisabled(tenant),
  });
  const oauth = new OAuthIssuer(secret, settings.tokenTtlSeconds, store.analytics);
  const stats = statsAuth(oauth, new TokenBuckets(config.rateLimit), scope('read'), (tenant) =>
    ctx.authenticator.tenantDisabled(tenant),
  );
  const collect = {
    collector,
    maxBytes: settings.collectMaxBytes,
    maxEvents: settings.collectMaxEvents,
  };

  registerAgentScript(app);
  await registerCollect(app, collect);
  await registerOAuthToken(app, oauth);
  registerAgentSocket(app, collect);
  registerSites(app, { store, sites, scope, statsAuth: stats });
  registerOAuthClients(app, { store, oauth, scope });
  registerStatsQuery(app, store.analytics, stats);
}
