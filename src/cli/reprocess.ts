import { Command } from 'commander';
import { pino } from 'pino';
import { Metrics } from '../observability/metrics.ts';
import { createLog, createStore } from '../roles/backends.ts';
import { configFrom, withConfigFlags } from './options.ts';

/** `beacon reprocess --site X --from D --to D`: rebuild a site's sessions and rollups from the log. */
export function reprocessCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('reprocess'))
    .description(
      'rebuild a site’s sessions and rollups for whole days from the raw events in the log; safe while Beacon runs',
    )
    .requiredOption('--site <id>', 'site id')
    .requiredOption('--from <date>', 'first local day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last local day, YYYY-MM-DD (inclusive)')
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const { reprocess } = await import('../analytics/reprocess.ts');
      const logger = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
      const store = await createStore(config);
      await store.open();
      const log = await createLog(config, new Metrics(), logger);
      await log.open();
      try {
        const started = performance.now();
        const result = await reprocess({
          log,
          store,
          site: options.site as string,
          from: options.from as string,
          to: options.to as string,
          onProgress: (p) =>
            process.stderr.write(
              p.phase === 'read'
                ? `reading the log: ${p.records}/${p.of} records, ${p.matched} for this site and range\n`
                : `rebuilt ${p.day}: ${p.events} events (${p.done}/${p.of} days)\n`,
            ),
        });
        process.stdout.write(
          `reprocessed ${result.events} events over ${result.days} days in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
        );
      } finally {
        await log.close();
        await store.close();
      }
    });
}
