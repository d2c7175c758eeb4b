import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Log } from '../../log/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { pingWithin } from '../../http/operations-routes.ts';
import type { Store } from '../../store/store.ts';
import { projections } from '../projections.ts';

/** The operations endpoints of `beacon sink`: it has no API, but its lag and batches must be scrapeable. */
export interface SinkServer {
  /** `http://host:port` as bound (port 0 becomes the port picked). */
  readonly url: string;
  close(): Promise<void>;
}

export interface SinkServerOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Log;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** False once shutdown has begun; /readyz reports it. */
  readonly accepting: () => boolean;
}

/** Sets `beacon_sink_lag_records`: per projection, the log's end offsets minus the group's checkpoints. */
async function measureLag(options: SinkServerOptions): Promise<void> {
  for (const { group, stream } of projections) {
    const [ends, saved] = await Promise.all([
      options.log.endOffsets(stream),
      options.store.checkpoints(group, stream),
    ]);
    let lag = 0;
    for (const [partition, end] of ends) {
      const at = saved.find((c) => c.partition === partition)?.offset ?? 0;
      lag += Math.max(0, end - at);
    }
    options.metrics.sinkLag.set({ stream, group }, lag);
  }
}

async function readiness(options: SinkServerOptions): Promise<Record<string, string>> {
  const checks: Record<string, string> = { accepting: options.accepting() ? 'ok' : 'shutting down' };
  const outcome = (p: Promise<void>) =>
    p.then(
      () => 'ok',
      (err: unknown) => (err as Error).message,
    );
  [checks.store, checks.log] = await Promise.all([
    outcome(pingWithin(options.store.ping())),
    outcome(pingWithin(options.log.ping())),
  ]);
  return checks;
}

/** Serves `/metrics` (Prometheus, with the group's lag measured at each scrape), `/healthz` and `/readyz`. */
export async function startSinkServer(options: SinkServerOptions): Promise<SinkServer> {
  const server: Server = createServer((request, response) => {
    let path = (request.url ?? '/').split('?')[0] ?? '';
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(body));
    };
    void (async () => {
      if (request.method !== 'GET') path = '';
      if (path === '/healthz') return json(200, { status: 'ok' });
      if (path === '/readyz') {
        const checks = await readiness(options);
        const ready = Object.values(checks).every((v) => v === 'ok');
        return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
      }
      if (path === '/metrics') {
        // A log or store that does not answer leaves the lag at its last value; the rest still renders.
        await measureLag(options).catch((err: unknown) =>
          options.logger.warn({ err }, 'cannot measure sink lag for /metrics'),
        );
        response.writeHead(200, { 'content-type': options.metrics.registry.contentType });
        return response.end(await options.metrics.render());
      }
      return json(404, { error: { code: 'ROUTE_NOT_FOUND', message: 'No such route' } });
    })().catch((err: unknown) => {
      options.logger.error({ err }, 'sink operations endpoint failed');
      if (!response.headersSent) json(500, { error: { code: 'INTERNAL', message: 'internal error' } });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
