import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import { runAnalyticsContract } from './analytics.contract.ts';

runAnalyticsContract({
  name: 'sqlite',
  async create() {
    const store = sqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-store-')) });
    await store.open();
    return store;
  },
});
