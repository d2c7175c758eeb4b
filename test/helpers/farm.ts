import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A local target farm: real HTTP and HTTPS servers on loopback whose paths misbehave on purpose.
 *
 * - `/ok` 200 "beacon farm ok" · `/status/:code` · `/slow/:ms` answers after a delay
 * - `/hang` never answers · `/reset` resets the connection · `/huge/:bytes` sends that many bytes
 * - `/redirect/:n` redirects n times then lands on `/ok` · `/text/:words` echoes its words
 * - `/backtrack` sends "aaaa…a!" (for pathological patterns)
 * - `/json/:status` answers `{"status": STATUS, "build": {"version": "1.2.3"}, "items": [1, 2, 3]}` as JSON
 *
 * The HTTPS server uses a fresh self-signed certificate valid for 30 days.
 */
export interface TargetFarm {
  readonly http: string;
  readonly https: string;
  /** Requests seen per path, to prove how often a target was probed. */
  readonly hits: Map<string, number>;
  /** Connections opened, to prove each check used a fresh one. */
  readonly connections: () => number;
  /** A loopback port with nothing listening. */
  readonly closedPort: number;
  readonly certExpiresAt: number;
  close(): Promise<void>;
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  hits: Map<string, number>,
  sockets: Set<Socket>,
): void {
  const path = (req.url ?? '/').split('?')[0]!;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  const [, head, arg] = path.split('/');
  switch (head) {
    case 'ok':
      res.end('beacon farm ok');
      return;
    case 'status':
      res.statusCode = Number(arg);
      res.end(`status ${arg}`);
      return;
    case 'slow':
      setTimeout(() => res.end('slow ok'), Number(arg)).unref();
      return;
    case 'hang':
      sockets.add(req.socket);
      return;
    case 'reset':
      req.socket.resetAndDestroy();
      return;
    case 'huge': {
      const total = Number(arg);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      res.setHeader('content-length', total);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    case 'redirect': {
      const n = Number(arg);
      res.statusCode = 302;
      res.setHeader('location', n > 1 ? `/redirect/${n - 1}` : '/ok');
      res.end();
      return;
    }
    case 'text':
      res.end(decodeURIComponent(arg ?? '').replace(/\+/g, ' '));
      return;
    case 'backtrack':
      res.end('a'.repeat(5000) + '!');
      return;
    case 'json':
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ status: arg, build: { version: '1.2.3' }, items: [1, 2, 3] }));
      return;
    default:
      res.statusCode = 404;
      res.end('not found');
  }
}

/** A self-signed certificate for localhost and 127.0.0.1, valid for `days`, made by openssl. */
export function selfSignedCert(days: number): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        String(days),
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const listen = (server: http.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

/** Starts the farm; `close()` stops both servers and every connection they hold. */
export async function startFarm(options: { tls?: boolean } = {}): Promise<TargetFarm> {
  const hits = new Map<string, number>();
  const hanging = new Set<Socket>();
  let connections = 0;
  const plain = http.createServer((req, res) => route(req, res, hits, hanging));
  plain.on('connection', () => (connections += 1));
  plain.keepAliveTimeout = 1000;
  const cert = options.tls === false ? undefined : selfSignedCert(30);
  const secure = cert
    ? https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => route(req, res, hits, hanging))
    : undefined;
  secure?.on('secureConnection', () => (connections += 1));
  const port = await listen(plain);
  const securePort = secure ? await listen(secure) : 0;
  const probe = http.createServer();
  const closedPort = await listen(probe);
  await new Promise((r) => probe.close(r));
  const certExpiresAt = cert
    ? Date.parse(new (await import('node:crypto')).X509Certificate(cert.cert).validTo)
    : 0;
  return {
    http: `http://127.0.0.1:${port}`,
    https: `https://localhost:${securePort}`,
    hits,
    connections: () => connections,
    closedPort,
    certExpiresAt,
    async close() {
      for (const socket of hanging) socket.destroy();
      plain.closeAllConnections();
      secure?.closeAllConnections();
      await Promise.all([
        new Promise((r) => plain.close(r)),
        secure ? new Promise((r) => secure.close(r)) : undefined,
      ]);
    },
  };
}
