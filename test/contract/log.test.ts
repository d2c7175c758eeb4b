import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.ts';
import { runLogContract } from './log.contract.ts';

for (const writerThread of [true, false]) {
  runLogContract({
    name: writerThread ? 'embedded (writer thread)' : 'embedded (commits on the event loop)',
    async create() {
      const log = new EmbeddedLog({
        dataDir: mkdtempSync(join(tmpdir(), 'beacon-log-')),
        maxQueue: 10_000,
        logger: pino({ level: 'silent' }),
        writerThread,
      });
      await log.open();
      return log;
    },
  });
}
