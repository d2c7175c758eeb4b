/**
 * The Beacon a benchmark measures, in its own process so the load generator does not share its event
 * loop. Started by bench/lib/server.ts: settings arrive as JSON in argv[2], the URL goes back over IPC,
 * and an IPC "close" (or the parent going away) stops it and deletes its data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { startBeacon } from '../src/roles/start.ts';
import { mountBenchRoutes } from './lib/bench-routes.ts';
import type { ServerMessage } from './lib/server.ts';

const flags = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
// A benchmark may hand over a data directory it prepared (bench/analytics.ts generates history into one).
const dataDir =
  typeof flags.dataDir === 'string' ? flags.dataDir : mkdtempSync(join(tmpdir(), 'beacon-bench-'));
const config = loadConfig({ flags: { ...flags, dataDir } });
const beacon = await startBeacon(config, { extend: mountBenchRoutes });

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  beacon
    .close()
    .then(
      () => 0,
      (err: unknown) => {
        console.error('bench server: close failed', err);
        return 1;
      },
    )
    .then((code) => {
      rmSync(dataDir, { recursive: true, force: true });
      // Exit explicitly so a --cpu-prof profile is written even if a handle lingers.
      process.exit(code);
    }, console.error);
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'close') stop();
});
process.on('disconnect', stop);
process.send!({ type: 'listening', url: `http://127.0.0.1:${beacon.port}`, dataDir } satisfies ServerMessage);
