import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import { runMonitorStoreContract } from './monitor-store.contract.ts';

/** Each store's data directory. */
const dirs = new WeakMap<BeaconStore, string>();

runMonitorStoreContract({
  name: 'sqlite',
  async create() {
    const dataDir = mkdtempSync(join(tmpdir(), 'beacon-store-'));
    const store = sqliteStore({ dataDir });
    await store.open();
    dirs.set(store, dataDir);
    return store;
  },
  wholeBlocks(store) {
    const db = new Database(join(dirs.get(store)!, 'beacon.db'));
    try {
      db.exec(`UPDATE monitor_check_blocks AS b SET data = CAST(data || COALESCE((
                 SELECT group_concat(t.data, '' ORDER BY t.piece) FROM monitor_check_block_tails t
                 WHERE t.piece BETWEEN b.id * 16 AND b.id * 16 + 15), '') AS BLOB);
               DELETE FROM monitor_check_block_tails;`);
    } finally {
      db.close();
    }
    return Promise.resolve();
  },
});
