/**
 * A prober worker thread (see ProberPool): runs one part of the targets (startProberPart) and speaks
 * to the pool through its port. Every target of a host lives in one part, so per-host limits hold.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { FromThread, ThreadSettings, ToThread } from './prober-pool.ts';
import { startProberPart } from './prober-part.ts';

const port = parentPort!;
const settings = workerData as ThreadSettings;
const receive = startProberPart(
  settings,
  (message: FromThread) => port.postMessage(message),
  pino({ level: settings.logLevel }).child({ part: 'prober', thread: settings.index }),
);
port.on('message', (message: ToThread) => receive(message));
port.postMessage({ type: 'ready' } satisfies FromThread);
