import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import { runStoreContract } from './store.contract.ts';

runStoreContract({
  name: 'sqlite',
  async create() {
    const store = sqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-store-')) });
    await store.open();
    return store;
  },
});
