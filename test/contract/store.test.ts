import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { runAnalyticsContract } from './analytics.contract.ts';
import { runStoreContract } from './store.contract.ts';

runStoreContract({
  name: 'sqlite',
  async create() {
    const store = new SqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-store-')) });
    await store.open();
    return store;
  },
});

runAnalyticsContract({
  name: 'sqlite',
  async create() {
    const store = new SqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-store-')) });
    await store.open();
    return store;
  },
});
