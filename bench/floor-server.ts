/**
 * The floor for bench/fanout.ts: the least a Node.js process can do to push one record to every
 * WebSocket subscriber on this machine. It accepts upgrades with `ws` (as Beacon does, compression
 * off), greets each subscriber, and on `POST /v1/messages` answers 202 and sends the record's frame,
 * encoded once, to every socket in one plain loop: no tokens, no log, no commit, no hub. Beacon's
 * latency measured beside it in the same run says how much Beacon adds to what the machine's
 * sockets cost. Started by bench/lib/server.ts like bench/server.ts, and speaks the same IPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { uuidv7 } from '../src/ingest/ids.ts';
import { recordFrame } from '../src/live/hub.ts';
import type { ServerStats } from './lib/bench-routes.ts';
import type { ServerMessage } from './lib/server.ts';

const TEXT = { binary: false } as const;
const dataDir = mkdtempSync(join(tmpdir(), 'beacon-floor-'));
const sockets = new Set<WebSocket>();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function answer(status: number, body: unknown): [number, string] {
  return [status, JSON.stringify(body)];
}

const server = createServer((request, response) => {
  const respond = ([status, body]: [number, string]) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  if (request.method === 'GET' && request.url === '/bench/stats') {
    const cpu = process.cpuUsage();
    return respond(answer(200, { cpuMicros: cpu.user + cpu.system, sinkBehind: 0 } satisfies ServerStats));
  }
  if (request.method !== 'POST' || request.url !== '/v1/messages') return respond(answer(404, {}));
  readBody(request).then((text) => {
    const receivedAt = Date.now();
    const id = uuidv7();
    respond(answer(202, { id, receivedAt: new Date(receivedAt).toISOString() }));
    const frame = recordFrame({
      stream: 'messages',
      tenant: 'default',
      entity: 'default',
      key: id,
      id,
      ts: receivedAt,
      receivedAt,
      body: JSON.parse(text) as unknown,
      partition: 0,
      offset: 0,
    });
    for (const socket of sockets) socket.send(frame, TEXT);
  }, console.error);
});

server.on('upgrade', (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    ws.send(JSON.stringify({ type: 'hello' }));
  });
});

function stop(): void {
  for (const socket of sockets) socket.terminate();
  server.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'close') stop();
});
process.on('disconnect', stop);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send!({ type: 'listening', url: `http://127.0.0.1:${port}`, dataDir } satisfies ServerMessage);
});
