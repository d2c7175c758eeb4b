import { after } from 'node:test';
import { dropTopics, ensureKafka, openKafkaLog, uniquePrefix } from '../helpers/services.ts';
import { runLogContract } from './log.contract.ts';

ensureKafka();
const run = uniquePrefix('contract');
let n = 0;
after(() => dropTopics(run));

runLogContract({
  name: 'kafka',
  // Each log gets its own topics, so every test starts on an empty log.
  create: () => openKafkaLog(`${run}${++n}.`),
});
