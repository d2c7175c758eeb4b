import { after } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { freshDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { runAnalyticsContract } from './analytics.contract.ts';
import { runStoreContract } from './store.contract.ts';

const databases: TestDatabase[] = [];
after(() => Promise.all(databases.map((db) => db.drop())));

/** A fresh database per test, so no test sees another's rows. */
const target = {
  name: 'postgres',
  async create() {
    const db = await freshDatabase();
    databases.push(db);
    const store = new PostgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    await store.open();
    return store;
  },
};

runStoreContract(target);
runAnalyticsContract(target);
