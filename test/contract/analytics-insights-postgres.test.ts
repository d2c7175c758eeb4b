import { freshPostgresStore } from '../helpers/postgres.ts';
import { runInsightsContract } from './analytics-insights.contract.ts';

runInsightsContract({
  name: 'postgres',
  create: freshPostgresStore,
});
