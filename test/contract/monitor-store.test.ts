import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { runMonitorStoreContract } from './monitor-store.contract.ts';

runMonitorStoreContract({
  name: 'sqlite',
  async create() {
    const store = new SqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-store-')) });
    await store.open();
    return store;
  },
});
