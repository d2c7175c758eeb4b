import type { FastifyInstance } from 'fastify';
import { isBeaconError } from '../../errors/catalog.ts';
import { decodeBatch } from '../agent-proto.ts';
import { parseCollect } from '../collect-payload.ts';
import { senderOf, type CollectRouteOptions } from './collect.ts';

/**
 * `GET /v1/collect/ws`: the agent's persistent transport (seed 003). Each binary frame is one protobuf
 * `Batch` (agent/agent.proto), checked by the same rules as `POST /v1/collect`. A bad frame is answered
 * with a text frame `{"error": {code, message}}` and the socket stays open; collection is never blocked.
 */
export function registerAgentSocket(app: FastifyInstance, options: CollectRouteOptions): void {
  // Silent for the same reason as /v1/collect: request logs would hold the client address.
  app.get(
    '/v1/collect/ws',
    { websocket: true, logLevel: 'silent', schema: { hide: true } },
    (socket, request) => {
      const sender = senderOf(request, 'websocket');
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        void (async () => {
          try {
            if (!isBinary) throw new Error('text frames are not accepted');
            if (data.length > options.maxBytes)
              throw new Error(`frames are at most ${options.maxBytes} bytes`);
            options.collector.limitAddress(sender.address);
            await options.collector.collect(parseCollect(decodeBatch(data), options.maxEvents), sender);
          } catch (err) {
            const error = isBeaconError(err)
              ? { code: err.code, message: err.message }
              : { code: 'COLLECT_INVALID', message: (err as Error).message };
            if (socket.readyState === 1) socket.send(JSON.stringify({ error }));
          }
        })();
      });
    },
  );
}
