import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import { errorResponses } from '../../http/schemas.ts';
import { parseCollect } from '../collect-payload.ts';
import type { Collector, Sender } from '../collector.ts';

/** What both collect transports need: the collection rules and the payload's limits. */
export interface CollectRouteOptions {
  readonly collector: Collector;
  /** Largest body or frame, bytes. */
  readonly maxBytes: number;
  /** Most events in one body or frame. */
  readonly maxEvents: number;
}

/** The sender of a collect request or socket, as its headers describe it. */
export function senderOf(request: FastifyRequest, transport: Sender['transport']): Sender {
  const h = request.headers;
  return {
    address: request.ip,
    userAgent: typeof h['user-agent'] === 'string' ? h['user-agent'] : '',
    origin: typeof h.origin === 'string' ? h.origin : undefined,
    optedOut: h.dnt === '1' || h['sec-gpc'] === '1',
    transport,
  };
}

/** `POST /v1/collect`: the agent's events over HTTP, checked by the collection rules. */
export async function registerCollect(app: FastifyInstance, options: CollectRouteOptions): Promise<void> {
  const { collector, maxBytes, maxEvents } = options;
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
        bodyLimit: maxBytes,
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
        const payload = parseCollect(request.body, maxEvents);
        const result = await collector.collect(payload, senderOf(request, 'http'));
        return reply.code(202).send(result);
      },
    );
    done();
  });
}
