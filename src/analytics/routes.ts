import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteContext } from '../http/context.ts';
import { TokenBuckets } from '../http/rate-limit.ts';
import { Collector } from './collector.ts';
import { ImportWorker } from './import-worker.ts';
import { CollectMetrics } from './metrics.ts';
import { OAuthIssuer } from './oauth.ts';
import type { QueryOptions } from './query.ts';
import { createMailSender } from './report-mail.ts';
import { ReportWorker } from './report-worker.ts';
import { registerAgentScript } from './routes/agent-script.ts';
import { registerAgentSocket } from './routes/agent-socket.ts';
import { registerCollect } from './routes/collect.ts';
import { registerDefinitions } from './routes/definitions.ts';
import { registerImports } from './routes/imports.ts';
import { registerOAuthClients } from './routes/oauth-clients.ts';
import { registerOAuthToken } from './routes/oauth-token.ts';
import { registerReports } from './routes/reports.ts';
import { registerShared } from './routes/shared.ts';
import { registerSharedLinks } from './routes/shared-links.ts';
import { registerSites } from './routes/sites.ts';
import { ownedSite, statsAuth } from './routes/stats-access.ts';
import { registerStatsQuery } from './routes/stats-query.ts';
import { registerVisitAnalyses } from './routes/visit-analyses.ts';
import { SharedLinks } from './shared-links.ts';
import { SiteDirectory } from './site-directory.ts';
import type { AnalyticsStore } from './store/repositories.ts';

/**
 * Web analytics (issues 5 and 19): the agent script, collection over HTTP and WebSocket, sites, OAuth2
 * client credentials, the stats query and the visit-level analyses (funnels, journeys, retention),
 * goals and segments, shared dashboards, scheduled reports and imports, one file per resource in
 * `routes/`. They share the server secret (visitor salts and access tokens derive from it), the
 * collection rules, the site cache, the OAuth2 issuer and the workers made here; the report and
 * import workers run in every API process and stop when the server closes.
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
  const tenantDisabled = (tenant: string) => ctx.authenticator.tenantDisabled(tenant);
  const stats = statsAuth(oauth, new TokenBuckets(config.rateLimit), scope('read'), tenantDisabled);
  const collect = {
    collector,
    maxBytes: settings.collectMaxBytes,
    maxEvents: settings.collectMaxEvents,
  };
  const query: QueryOptions = { visitBudget: settings.visitBudget };
  const logger = ctx.logger.child({ domain: 'analytics' });
  const sender = createMailSender(settings.smtp);
  const reports = new ReportWorker({
    store,
    sender,
    query,
    pollMs: settings.workerPollMs,
    publicUrl: config.publicUrl,
    logger,
  });
  const imports = new ImportWorker({ store, pollMs: settings.workerPollMs, logger });
  const links = new SharedLinks(store.analytics, secret);

  registerAgentScript(app);
  await registerCollect(app, collect);
  await registerOAuthToken(app, oauth);
  registerAgentSocket(app, collect);
  registerSites(app, { store, sites, scope, statsAuth: stats });
  registerOAuthClients(app, { store, oauth, scope });
  const own = {
    prefix: '/v1/sites/:id',
    params: Type.Object({ id: Type.String() }),
    onRequest: stats,
    site: (request: Parameters<typeof ownedSite>[1]) =>
      ownedSite(store.analytics, request, (request.params as { id: string }).id),
    security: [{ bearer: [] }],
    reader: store.analytics,
    options: query,
  };
  registerStatsQuery(app, own);
  registerVisitAnalyses(app, own);
  registerDefinitions(app, { store, scope, statsAuth: stats });
  registerSharedLinks(app, { store, links, scope });
  registerShared(app, {
    reader: store.analytics,
    links,
    buckets: new TokenBuckets(config.rateLimit),
    // Ten tries at once, then one every six seconds: a password cannot be guessed by brute force.
    unlockBuckets: new TokenBuckets({ perSecond: 1 / 6, burst: 10 }),
    tenantDisabled,
    options: query,
  });
  registerReports(app, { store, worker: reports, canSend: sender !== undefined, scope });
  registerImports(app, { store, worker: imports, maxBytes: settings.importMaxBytes, scope });

  reports.start();
  imports.start();
  app.addHook('onClose', async () => {
    await Promise.all([reports.close(), imports.close()]);
  });
}
