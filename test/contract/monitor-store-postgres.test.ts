import pg from 'pg';
import type { BeaconStore } from '../../src/roles/store.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { postgresStore } from '../../src/roles/store-postgres.ts';
import { runMonitorStoreContract } from './monitor-store.contract.ts';

/** Each store's database. */
const urls = new WeakMap<BeaconStore, string>();

runMonitorStoreContract({
  name: 'postgres',
  async create() {
    const url = (await freshDatabase()).url;
    const store = postgresStore({ url, maintenanceIntervalMs: 0 });
    await store.open();
    urls.set(store, url);
    return store;
  },
  async wholeBlocks(store) {
    const client = new pg.Client({ connectionString: urls.get(store)! });
    await client.connect();
    try {
      await client.query("UPDATE monitor_check_blocks SET data = data || tail, tail = ''");
    } finally {
      await client.end();
    }
  },
});
