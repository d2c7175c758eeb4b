import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.ts';

/** A probe must answer before its caller gives up: a broker that is down fails the check, not the probe. */
const PING_TIMEOUT_MS = 2000;

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `/healthz` (the process is up), `/readyz` (it can take traffic) and `/metrics` (Prometheus). */
export function registerOperationsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // Probes and scrapes arrive every few seconds; logging each one would drown the useful lines.
  const hidden = { schema: { hide: true }, logLevel: 'warn' as const };

  app.get('/healthz', hidden, () => ({ status: 'ok' }));

  app.get('/readyz', hidden, async (_request, reply) => {
    const checks: Record<string, string> = {};
    checks.accepting = ctx.accepting() ? 'ok' : 'shutting down';
    try {
      await ctx.store.ping();
      checks.store = 'ok';
    } catch (err) {
      checks.store = (err as Error).message;
    }
    try {
      await withTimeout(ctx.log.ping(), PING_TIMEOUT_MS);
      checks.log = 'ok';
    } catch (err) {
      checks.log = (err as Error).message;
    }
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', hidden, async (_request, reply) => {
    const body = await ctx.metrics.render();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}
