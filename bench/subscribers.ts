/**
 * A process full of WebSocket subscribers for bench/fanout.ts, driven over IPC by bench/lib/fleet.ts.
 * It stamps each frame with the time it arrived before doing anything else with it, and keeps a
 * histogram of arrival minus the server's `receivedAt` (same machine, same clock).
 */
import WebSocket from 'ws';
import type { FleetCommand, FleetEvent, ProcessReport } from './lib/fleet.ts';
import { Histogram } from './lib/percentiles.ts';

interface Frame {
  readonly type: string;
  readonly receivedAt?: string;
  readonly count?: number;
  readonly body?: { readonly stage?: string };
}

const sockets = new Set<WebSocket>();
let stage: string | undefined;
let received = 0;
let dropped = 0;
let closed = 0;
let latency = new Histogram(1);

function send(event: FleetEvent): void {
  process.send!(event);
}

function onFrame(data: WebSocket.RawData): void {
  const arrived = Date.now();
  const frame = JSON.parse((data as Buffer).toString()) as Frame;
  if (frame.type === 'record' && frame.body?.stage === stage && frame.receivedAt !== undefined) {
    received += 1;
    latency.record(arrived - Date.parse(frame.receivedAt));
  } else if (frame.type === 'dropped') {
    dropped += frame.count ?? 0;
  }
}

/** Opens one subscriber; resolves once the server has greeted it, i.e. it is subscribed. */
function subscribe(url: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    });
    let greeted = false;
    ws.on('message', (data) => {
      if (greeted) return onFrame(data);
      greeted = true;
      sockets.add(ws);
      resolve();
    });
    ws.on('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade answered ${response.statusCode}`)),
    );
    ws.on('error', (err) => {
      if (!greeted) reject(err);
    });
    ws.on('close', (code) => {
      if (!greeted) return reject(new Error(`closed with ${code} before the greeting`));
      if (sockets.delete(ws)) closed += 1;
    });
  });
}

async function open(command: Extract<FleetCommand, { type: 'open' }>): Promise<void> {
  let failed = 0;
  let error: string | undefined;
  for (let done = 0; done < command.count; done += command.wave) {
    const wave = Math.min(command.wave, command.count - done);
    const results = await Promise.allSettled(
      Array.from({ length: wave }, () => subscribe(command.url, command.token)),
    );
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      failed += 1;
      error ??= String(result.reason);
    }
    send({ type: 'opening', open: sockets.size, failed });
  }
  send({ type: 'opened', open: sockets.size, failed, error });
}

function report(): ProcessReport {
  const cpu = process.cpuUsage();
  return {
    open: sockets.size,
    closed,
    received,
    dropped,
    latency: latency.toJSON(),
    cpuMicros: cpu.user + cpu.system,
  };
}

function close(): void {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

process.on('message', (command: FleetCommand) => {
  switch (command.type) {
    case 'open':
      open(command).catch((err: unknown) => {
        console.error('subscribers: opening failed', err);
        process.exit(1);
      });
      break;
    case 'measure':
      stage = command.stage;
      received = 0;
      dropped = 0;
      latency = new Histogram(1);
      break;
    case 'report':
      send({ type: 'report', report: report() });
      break;
    case 'close':
      close();
      break;
  }
});
process.on('disconnect', close);
