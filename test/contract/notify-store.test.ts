import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import { runNotifyStoreContract } from './notify-store.contract.ts';

runNotifyStoreContract({
  name: 'sqlite',
  async create() {
    const store = sqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-notify-')) });
    await store.open();
    return store;
  },
});
