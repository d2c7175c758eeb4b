/**
 * An open-loop message load in its own process: `rate` single messages a second to `POST /v1/messages`,
 * sent in ten slices a second whatever the answers take (a closed loop would slow down with the
 * server and understate the load). Answers `{sent, failed}` to any IPC message.
 *
 *   node bench/lib/message-rate.ts URL TOKEN RATE
 */
import http from 'node:http';

const [url, token, rateText] = process.argv.slice(2);
const rate = Number(rateText);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const target = new URL('/v1/messages', url);
let sent = 0;
let failed = 0;
let n = 0;

function send(): void {
  const body = JSON.stringify({ device: `device-${n % 500}`, value: n % 1000, unit: 'celsius', seq: n++ });
  const req = http.request(target, {
    method: 'POST',
    agent,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  req.on('response', (res) => {
    res.resume();
    if (res.statusCode === 202) sent += 1;
    else failed += 1;
  });
  req.on('error', () => (failed += 1));
  req.end(body);
}

const timer = setInterval(() => {
  for (let i = 0; i < rate / 10; i++) send();
}, 100);
process.on('message', () => process.send!({ sent, failed }));
process.on('SIGTERM', () => {
  clearInterval(timer);
  process.exit(0);
});
