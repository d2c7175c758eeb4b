import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { RouteContext } from '../http/context.ts';
import { BeaconError } from '../errors/catalog.ts';
import { errorResponses } from '../http/schemas.ts';
import { STREAMS, type Stream } from '../log/record.ts';
import type { Corkable, LiveHub } from './hub.ts';

const StreamQuery = Type.Object({
  streams: Type.String({
    default: STREAMS.join(','),
    pattern: `^(${STREAMS.join('|')})(,(${STREAMS.join('|')}))*$`,
    description: `Comma-separated streams to receive: ${STREAMS.join(', ')}.`,
  }),
  entity: Type.Optional(
    Type.String({ minLength: 1, description: 'Only records about this entity (target, site, space…).' }),
  ),
  access_token: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Token, for clients that can set neither a header nor a subprotocol.',
    }),
  ),
});

const STREAM_DESCRIPTION =
  'Upgrade to a WebSocket. Every record is pushed as a JSON text frame `{type:"record", stream, tenant, entity, id, ts, receivedAt, body}` the moment it is accepted. A slow client gets `{type:"dropped", count}` for frames it lost, or is closed with 1013, per configuration. Browsers pass the token as the subprotocol `bearer.<token>` beside `beacon.v1`.';

/** OpenAPI path item for the stream, which @fastify/websocket keeps out of the generated document. */
export const streamPathItem = {
  '/v1/stream': {
    get: {
      tags: ['live'],
      summary: 'Live records over WebSocket',
      description: STREAM_DESCRIPTION,
      security: [{ bearer: [] }],
      parameters: Object.entries(StreamQuery.properties).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        schema,
        description: (schema as { description?: string }).description,
      })),
      responses: {
        101: { description: 'Switching Protocols: the WebSocket is open.' },
        ...Object.fromEntries(
          (
            [
              [400, 'The query is not valid.'],
              [401, 'No valid token.'],
              [403, 'The token lacks the read scope, or its tenant is disabled.'],
              [426, 'Not a WebSocket upgrade: this path speaks only WebSocket.'],
              [429, 'The token is over its rate.'],
            ] as const
          ).map(([status, description]) => [
            status,
            {
              description,
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          ]),
        ),
      },
    },
  },
};

/** `GET /v1/stream`: the live WebSocket, whose sockets `hub` serves. */
export function registerLiveRoutes(base: FastifyInstance, ctx: RouteContext, hub: LiveHub): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { scope, config } = ctx;

  app.route({
    method: 'GET',
    url: '/v1/stream',
    onRequest: scope('read'),
    schema: {
      tags: ['live'],
      summary: 'Live records over WebSocket',
      description: STREAM_DESCRIPTION,
      security: [{ bearer: [] }],
      querystring: StreamQuery,
      response: errorResponses(400, 401, 403, 426, 429, 503),
    },
    // A plain GET (no upgrade) is told what the path speaks, in the catalog's shape.
    handler: () => {
      throw new BeaconError(
        'UPGRADE_REQUIRED',
        'GET /v1/stream speaks only WebSocket: send Upgrade: websocket',
      );
    },
    wsHandler: (socket, request) => {
      if (hub.size >= config.live.maxSubscribers) {
        socket.close(1013, 'too many subscribers');
        return;
      }
      const streams = new Set(request.query.streams.split(',') as Stream[]);
      // ws keeps its TCP socket in a private field; when it is there, the hub corks each turn's frames
      // into one write. Without it delivery is still correct, one write per frame.
      const raw = (socket as unknown as { _socket?: Corkable })._socket;
      hub.subscribe(
        socket,
        { tenant: request.principal!.tenant, streams, entity: request.query.entity },
        raw,
      );
      socket.on('pong', () => hub.pong(socket));
      socket.on('close', () => hub.unsubscribe(socket));
      socket.on('error', () => hub.unsubscribe(socket));
      socket.send(
        JSON.stringify({ type: 'hello', streams: [...streams], entity: request.query.entity ?? null }),
      );
    },
  });
}
