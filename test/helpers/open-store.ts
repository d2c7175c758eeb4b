// Child-process entry for the concurrent-migration test: opens a BeaconPostgresStore on the URL given as
// the first argument once the second argument (epoch ms) is reached, so that several processes
// migrate at the same moment, then prints what it applied and what already existed.
import { postgresStore } from '../../src/roles/store-postgres.ts';

const [url, at] = process.argv.slice(2);
await new Promise((r) => setTimeout(r, Math.max(0, Number(at) - Date.now())));
const store = postgresStore({ url: url!, maintenanceIntervalMs: 0 });
const applied = await store.open();
process.stdout.write(JSON.stringify({ applied, existing: store.existing }) + '\n');
await store.close();
