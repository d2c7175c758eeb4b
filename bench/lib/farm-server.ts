/**
 * The monitor benchmark's target farm, in its own process so its CPU and memory are not the
 * prober's. Listens on 0.0.0.0 so every 127.x.y.z loopback address reaches it: the benchmark spreads
 * targets over many "hosts" the way real targets are, and the per-host limit applies as it would.
 * Each answer waits `--delay-ms` (± half) to look like a real site, and every connection is closed
 * after one response, as the prober never reuses one.
 *
 *   node bench/lib/farm-server.ts --delay-ms 30   → prints {"port":N}
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const delayArg = process.argv.indexOf('--delay-ms');
const delay = delayArg === -1 ? 30 : Number(process.argv[delayArg + 1]);
let served = 0;
const body = 'beacon bench farm: ok\n'.repeat(20);

const server = http.createServer((_req, res) => {
  served += 1;
  res.setHeader('connection', 'close');
  setTimeout(() => res.end(body), delay * (0.5 + Math.random()));
});
server.maxConnections = 100_000;
server.listen(0, '0.0.0.0', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('message', () => process.send?.({ served, cpu: process.cpuUsage() }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
