/**
 * The least a benchmark subscriber needs of a WebSocket client: the opening handshake, unmasked
 * frames from the server, and pong and close replies. Ten thousand `ws` clients cost the machine
 * about as much CPU as the server they measure; on a shared 2-core box that CPU comes out of the
 * server's share and shows up as latency. This reader costs a fraction of that, so the figures say
 * more about the server. It is a load generator, not a general client: no fragmentation, no
 * extensions, text and control frames only.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

export interface LiteSocket {
  readonly socket: Socket;
  /** Ends the connection without a closing handshake. */
  terminate(): void;
}

export interface LiteHandlers {
  /** A text frame's payload, as it arrived. */
  onText(payload: Buffer): void;
  onClose(): void;
}

/** Opens a WebSocket to `url` with a bearer token; rejects with the HTTP status when refused. */
export function connect(url: string, token: string, handlers: LiteHandlers): Promise<LiteSocket> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        authorization: `Bearer ${token}`,
      },
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`upgrade answered ${res.statusCode}`));
    });
    req.on('error', reject);
    req.on('upgrade', (_res, socket, head) => {
      socket.setNoDelay(true);
      let buffered: Buffer = head.length > 0 ? head : Buffer.alloc(0);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        handlers.onClose();
      };
      const read = (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        let at = 0;
        while (buffered.length - at >= 2) {
          const opcode = buffered[at]! & 0x0f;
          let length = buffered[at + 1]! & 0x7f;
          let header = 2;
          if (length === 126) {
            if (buffered.length - at < 4) break;
            length = buffered.readUInt16BE(at + 2);
            header = 4;
          } else if (length === 127) {
            if (buffered.length - at < 10) break;
            length = Number(buffered.readBigUInt64BE(at + 2));
            header = 10;
          }
          if (buffered.length - at < header + length) break;
          const payload = buffered.subarray(at + header, at + header + length);
          at += header + length;
          if (opcode === OP_TEXT) handlers.onText(payload);
          else if (opcode === OP_PING) socket.write(clientFrame(0xa, payload));
          else if (opcode === OP_CLOSE) {
            socket.end(clientFrame(0x8, payload.subarray(0, 2)));
            close();
          }
        }
        buffered = at === buffered.length ? Buffer.alloc(0) : buffered.subarray(at);
      };
      if (buffered.length > 0) {
        const first = buffered;
        buffered = Buffer.alloc(0);
        read(first);
      }
      socket.on('data', read);
      socket.on('close', close);
      socket.on('error', close);
      resolve({ socket, terminate: () => socket.destroy() });
    });
    req.end();
  });
}

/** A client frame: final, masked as the protocol requires (with a zero key, so the payload is as is). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  payload.copy(frame, 6);
  return frame;
}
