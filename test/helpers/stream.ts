import WebSocket from 'ws';
import { ADMIN_TOKEN } from './server.ts';

export interface Frame {
  type: string;
  stream?: string;
  id?: string;
  body?: Record<string, unknown>;
  receivedAt?: string;
}

/** Opens a `/v1/stream` socket on a Beacon (in-process or a role's child process) and collects its frames. */
export async function openStream(
  beacon: { readonly url: string },
  query: string,
  auth: { header?: string; protocol?: string } = { header: ADMIN_TOKEN },
): Promise<{
  ws: WebSocket;
  frames: Frame[];
  next: (pred: (f: Frame) => boolean, timeoutMs?: number) => Promise<Frame>;
}> {
  const url = beacon.url.replace('http', 'ws') + '/v1/stream' + query;
  const ws = auth.protocol
    ? new WebSocket(url, ['beacon.v1', `bearer.${auth.protocol}`])
    : new WebSocket(url, { headers: { authorization: `Bearer ${auth.header}` } });
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Frame;
    frames.push(frame);
    for (const w of [...waiters]) {
      if (w.pred(frame)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frame);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (pred: (f: Frame) => boolean, timeoutMs = 5000) =>
    new Promise<Frame>((resolve, reject) => {
      const hit = frames.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(
        () => reject(new Error(`no matching frame within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  return { ws, frames, next };
}
