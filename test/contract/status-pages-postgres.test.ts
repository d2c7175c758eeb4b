import { freshPostgresStore } from '../helpers/postgres.ts';
import { runStatusPageContract } from './status-pages.contract.ts';

runStatusPageContract({ name: 'postgres', create: freshPostgresStore });
