import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import { runInsightsContract } from './analytics-insights.contract.ts';

runInsightsContract({
  name: 'sqlite',
  async create() {
    const store = sqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-insights-')) });
    await store.open();
    return store;
  },
});
