import { freshPostgresStore } from '../helpers/postgres.ts';
import { runStoreContract } from './store.contract.ts';

/** A fresh database per test, so no test sees another's rows. */
const target = {
  name: 'postgres',
  create: freshPostgresStore,
};

runStoreContract(target);
