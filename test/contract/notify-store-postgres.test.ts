import { freshPostgresStore } from '../helpers/postgres.ts';
import { runNotifyStoreContract } from './notify-store.contract.ts';

runNotifyStoreContract({ name: 'postgres', create: freshPostgresStore });
