import type { FastifyInstance } from 'fastify';
import { requireContentType } from '../../src/http/auth.ts';
import type { RouteContext } from '../../src/http/context.ts';
import { projections } from '../../src/roles/projections.ts';

/** What `GET /bench/stats` answers: enough for the parent to tell whether the server is the bottleneck. */
export interface ServerStats {
  /** User plus system CPU time the server process has used, in microseconds. */
  readonly cpuMicros: number;
  /** Log offsets the sinks (every projection) have yet to store; 0 once the store holds everything accepted. */
  readonly sinkBehind: number;
}

/** Same shape as the real 202 answer, so the baseline serialises the same way. */
const AcceptedShape = {
  type: 'object',
  properties: { id: { type: 'string' }, receivedAt: { type: 'string' } },
} as const;

/**
 * Routes only the benchmark server mounts. `POST /bench/noop` is the baseline for ingest: the same
 * auth hook, content-type check, JSON body parsing and response serialisation as `POST /v1/messages`,
 * but no log append and so no fsync. `GET /bench/stats` reports CPU use and sink lag.
 */
export function mountBenchRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post(
    '/bench/noop',
    {
      onRequest: [ctx.scope('ingest'), requireContentType('application/json')],
      schema: { hide: true, response: { 202: AcceptedShape } },
    },
    (_request, reply) => reply.code(202).send({ id: 'x', receivedAt: new Date().toISOString() }),
  );

  app.get(
    '/bench/stats',
    { onRequest: ctx.scope('read'), schema: { hide: true } },
    async (): Promise<ServerStats> => {
      let sinkBehind = 0;
      for (const { stream, group } of projections) {
        const end = await ctx.log.endOffsets(stream);
        const saved = await ctx.store.checkpoints(group, stream);
        for (const [partition, next] of end) {
          const at = saved.find((c) => c.partition === partition)?.offset ?? 0;
          // An empty stream reports an end of 1 with nothing to store.
          if (next > 1) sinkBehind += Math.max(0, next - at);
        }
      }
      const cpu = process.cpuUsage();
      return { cpuMicros: cpu.user + cpu.system, sinkBehind };
    },
  );
}
