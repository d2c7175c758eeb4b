import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import { runStatusPageContract } from './status-pages.contract.ts';

runStatusPageContract({
  name: 'sqlite',
  async create() {
    const store = sqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-status-')) });
    await store.open();
    return store;
  },
});
