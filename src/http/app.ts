import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import type { Store } from '../store/store.ts';
import { parseJsonBody, utf8Text } from './json-body.ts';
import { WS_PROTOCOL } from './auth.ts';
import type { RouteContext, RoutePlugin } from './context.ts';
import { BeaconError } from '../errors/catalog.ts';
import { clientErrorHandler, makeErrorHandler, sendError } from './error-handler.ts';
import { RouteMethods } from './methods.ts';
import { schemaController } from './validation.ts';
import { ErrorBody } from './schemas.ts';

const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
/** Paths the dashboard does not own: everything else falls back to its index.html. */
const API_PREFIXES = [
  '/v1/',
  '/badge/',
  '/openapi.json',
  '/docs',
  '/metrics',
  '/healthz',
  '/readyz',
  '/oauth/',
];

/**
 * Fastify's `trustProxy` from the `http.trustProxy` setting: off, everything, a hop count, or the
 * addresses and ranges of the proxies in front. `request.ip` then is the client's address.
 */
export function trustProxyOption(setting: string): FastifyServerOptions['trustProxy'] {
  if (setting === 'false') return false;
  if (setting === 'true') return true;
  if (/^[0-9]+$/.test(setting)) {
    const hops = Number(setting);
    // What Fastify does with a number, which its types do not admit: trust the nearest `hops` peers.
    return (_address: string, hop: number) => hop < hops;
  }
  return setting
    .split(',')
    .map((a) => a.trim())
    .join(',');
}

/** What the API serves besides the engine's own: the domains' routes, and paths described by hand. */
export interface AppParts<S extends Store> {
  /** Registered in order. */
  readonly routes: readonly RoutePlugin<S>[];
  /**
   * OpenAPI path items for routes the document cannot see (WebSocket routes, which
   * `@fastify/websocket` hides), added to `/openapi.json` as they are.
   */
  readonly paths?: Readonly<Record<string, unknown>>;
  /** OpenAPI security schemes the routes name besides `bearer` (a header a domain reads, say). */
  readonly securitySchemes?: Readonly<Record<string, unknown>>;
}

/**
 * The answer for a method and path no route serves: 405 with the methods the path answers (in
 * `Allow`, which the error handler sets from the error's `allow`), or 404 when no route has the path.
 */
function noRoute(method: string, path: string, methods: RouteMethods): BeaconError {
  const allowed = methods.allowed(path);
  if (allowed.length === 0) return new BeaconError('ROUTE_NOT_FOUND', `no route ${method} ${path}`);
  return new BeaconError('METHOD_NOT_ALLOWED', `${path} answers ${allowed.join(', ')}, not ${method}`, {
    allow: allowed,
  });
}

/** Builds the API: the given routes, the OpenAPI document, the docs page and the dashboard. */
export async function buildApp<S extends Store>(
  ctx: RouteContext<S>,
  logger: FastifyBaseLogger,
  parts: AppParts<S>,
): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.ingest.maxBatchBytes,
    // A slow client cannot hold a connection forever: the whole request must arrive in time.
    requestTimeout: config.http.requestTimeoutMs,
    // Node checks request deadlines only this often (30 s by default), so keep it well under the timeout.
    http: {
      connectionsCheckingInterval: Math.max(100, Math.min(1000, config.http.requestTimeoutMs / 2)),
      requestTimeout: config.http.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.http.requestTimeoutMs),
    },
    trustProxy: trustProxyOption(config.http.trustProxy),
    return503OnClosing: true,
    // Path parameters longer than any id reach the route's schema (a 400 naming the parameter)
    // rather than the router's 414.
    routerOptions: { maxParamLength: 1000 },
    clientErrorHandler,
    forceCloseConnections: 'idle',
    schemaController: schemaController(),
  });

  app.decorateRequest('principal', null);
  const methods = new RouteMethods();
  app.addHook('onRoute', (route) => methods.add(route.method, route.url));
  // An error met before any route matched (a body method without a content type, say) is answered
  // as the missing route it is: 405 on a known path, else 404.
  app.setErrorHandler(
    makeErrorHandler(ctx.metrics, (request) =>
      request.is404 ? noRoute(request.method, request.url.split('?')[0]!, methods) : undefined,
    ),
  );
  app.addSchema(ErrorBody);

  const maxDepth = config.ingest.maxJsonDepth;
  // Bodies arrive as bytes and are checked to be UTF-8 before they become text: decoding would
  // otherwise replace bad bytes with U+FFFD and store something the client never sent.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const text = utf8Text(body as Buffer);
      done(null, request.routeOptions.config.rawJson ? text : parseJsonBody(text, maxDepth));
    } catch (err) {
      done(err as Error);
    }
  });
  app.addContentTypeParser(
    ['application/x-ndjson', 'application/ndjson'],
    { parseAs: 'buffer' },
    (_r, body, done) => {
      try {
        done(null, utf8Text(body as Buffer));
      } catch (err) {
        done(err as Error);
      }
    },
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Beacon API',
        version: '1',
        description: 'Ingest, query and stream time-series signals. Errors are listed in docs/errors.md.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, ...parts.securitySchemes },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (json as { $id?: string }).$id ?? `def-${i}`,
    },
    transformObject: (documentObject) => {
      const openapi = (documentObject as { openapiObject: { paths?: Record<string, unknown> } })
        .openapiObject;
      openapi.paths = { ...openapi.paths, ...parts.paths };
      return openapi as never;
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: 64 * 1024,
      handleProtocols: (protocols: Set<string>) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    },
  });

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  for (const register of parts.routes) await register(app, ctx);

  const hasDashboard = existsSync(WEB_DIST + 'index.html');
  if (hasDashboard) {
    await app.register(fastifyStatic, { root: WEB_DIST, wildcard: false, index: false });
  }
  const indexHtml = hasDashboard ? readFileSync(WEB_DIST + 'index.html', 'utf8') : undefined;
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/live'));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    if (request.method === 'GET' && indexHtml && !API_PREFIXES.some((p) => path.startsWith(p))) {
      return reply.type('text/html').send(indexHtml);
    }
    return sendError(reply, noRoute(request.method, path, methods), ctx.metrics);
  });
  return app;
}
