import { Command } from 'commander';
import { pino } from 'pino';
import { Metrics } from '../observability/metrics.ts';
import { createLog, createStore } from '../roles/backends.ts';
import { configFrom, withConfigFlags } from './options.ts';

/** `beacon storage [--json]`: bytes on disk per stream, hot against compacted, and per record. */
export function storageCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('storage'))
    .description('show where the disk goes: bytes per stream, hot against compacted, and per record')
    .option('--json', 'print the report as JSON')
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const { storageReport, storageText } = await import('../observability/storage.ts');
      const logger = pino({ level: 'warn' }, pino.destination(2));
      const store = await createStore(config, logger);
      await store.open();
      const log = await createLog(config, new Metrics(), logger);
      try {
        await log.open();
        process.stderr.write('measuring the store and the log…\n');
        const report = await storageReport(store, log);
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : storageText(report));
      } finally {
        await log.close();
        await store.close();
      }
    });
}
