import { Command } from 'commander';
import { pino } from 'pino';
import { loggerOptions } from '../observability/logger.ts';
import { createStore } from '../roles/backends.ts';
import { parseDuration } from './duration.ts';
import { configFrom, withConfigFlags } from './options.ts';

/**
 * `beacon compact [--older-than DURATION]`: folds checks into blocks now, as background compaction
 * does, with progress on stderr. Safe while Beacon runs: each step is one short transaction.
 */
export function compactCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('compact'))
    .description('fold checks of ended periods into compressed blocks now, with progress')
    .option(
      '--older-than <duration>',
      'compact periods that ended at least this long ago, e.g. 0, 30m, 2d (default: monitor.compaction.afterMinutes)',
    )
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const olderThan =
        options.olderThan === undefined
          ? config.monitor.compaction.afterMinutes * 60_000
          : parseDuration(options.olderThan as string);
      const { Compactor } = await import('../monitor/compaction.ts');
      const logger = pino(loggerOptions(config.logLevel), pino.destination(2));
      const store = await createStore(config, logger);
      await store.open();
      try {
        const started = performance.now();
        const compactor = new Compactor({
          store,
          periodMs: config.monitor.compaction.periodHours * 3_600_000,
          logger,
        });
        let shownAt = 0;
        const result = await compactor.run(Date.now() - olderThan, (p) => {
          const now = performance.now();
          if (now - shownAt < 1000) return;
          shownAt = now;
          process.stderr.write(
            `compacting: series ${p.series} of ${p.of}, ${p.checks} checks into ${p.blocks} blocks\n`,
          );
        });
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stdout.write(
          `compacted ${result.checks} checks into ${result.blocks} blocks (${result.bytes} bytes) over ${result.series} series in ${seconds} s\n`,
        );
      } finally {
        await store.close();
      }
    });
}
