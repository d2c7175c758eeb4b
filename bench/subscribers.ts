/**
 * A process full of WebSocket subscribers for bench/fanout.ts, driven over IPC by bench/lib/fleet.ts.
 * It stamps each frame with the time it arrived before doing anything else with it, and keeps a
 * histogram of arrival minus the server's `receivedAt` (same machine, same clock). Subscribers use
 * the minimal client in lib/ws-lite.ts and read frames without a full JSON parse, so that they take
 * as little of the machine's CPU from the server as they can.
 */
import type { FleetCommand, FleetEvent, ProcessReport } from './lib/fleet.ts';
import { Histogram } from './lib/percentiles.ts';
import { connect, type LiteSocket } from './lib/ws-lite.ts';

const RECEIVED_AT = Buffer.from('"receivedAt":"');
const RECORD = Buffer.from('{"type":"record"');
const DROPPED = Buffer.from('{"type":"dropped"');
const ISO_LENGTH = '2026-01-01T00:00:00.000Z'.length;

const sockets = new Set<LiteSocket>();
let stage: string | undefined;
let received = 0;
let dropped = 0;
let closed = 0;
let latency = new Histogram(1);
let stageMarker: Buffer | undefined;

function send(event: FleetEvent): void {
  process.send!(event);
}

function onFrame(frame: Buffer): void {
  const arrived = Date.now();
  if (frame.subarray(0, RECORD.length).equals(RECORD)) {
    if (!stageMarker || frame.indexOf(stageMarker) < 0) return;
    const at = frame.indexOf(RECEIVED_AT);
    if (at < 0) return;
    const start = at + RECEIVED_AT.length;
    received += 1;
    latency.record(arrived - Date.parse(frame.toString('latin1', start, start + ISO_LENGTH)));
  } else if (frame.subarray(0, DROPPED.length).equals(DROPPED)) {
    dropped += (JSON.parse(frame.toString()) as { count: number }).count;
  }
}

/** Opens one subscriber; resolves once the server has greeted it, i.e. it is subscribed. */
function subscribe(url: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let greeted = false;
    let socket: LiteSocket | undefined;
    // The greeting can arrive with the handshake's answer, before connect() resolves.
    const ready = () => {
      if (!greeted || !socket) return;
      sockets.add(socket);
      resolve();
    };
    connect(url, token, {
      onText: (payload) => {
        if (greeted) return onFrame(payload);
        greeted = true;
        ready();
      },
      onClose: () => {
        if (!greeted) return reject(new Error('closed before the greeting'));
        if (socket && sockets.delete(socket)) closed += 1;
      },
    }).then((s) => {
      socket = s;
      ready();
    }, reject);
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
      stageMarker = Buffer.from(`"stage":"${stage}"`);
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
