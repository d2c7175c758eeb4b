import { freshPostgresStore } from '../helpers/postgres.ts';
import { runAnalyticsContract } from './analytics.contract.ts';

runAnalyticsContract({
  name: 'postgres',
  create: freshPostgresStore,
});
