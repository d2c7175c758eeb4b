import { freshPostgresStore } from '../helpers/postgres.ts';
import { runMonitorStoreContract } from './monitor-store.contract.ts';

runMonitorStoreContract({
  name: 'postgres',
  create: freshPostgresStore,
});
