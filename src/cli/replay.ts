import { Command, Option } from 'commander';
import { pino } from 'pino';
import { BeaconError } from '../errors/catalog.ts';
import { loggerOptions } from '../observability/logger.ts';
import { STREAMS } from '../log/record.ts';
import { Metrics } from '../observability/metrics.ts';
import { createLog, createStore } from '../roles/backends.ts';
import { configFrom, withConfigFlags } from './options.ts';

/**
 * `beacon replay --stream S`: rebuilds a stream's projection from the raw records in the log, with
 * progress on stderr. It refuses to run (STORE_IN_USE) while a `beacon start` or `beacon sink` runs
 * the sinks of the same store, and they refuse to start while it runs: both would write the rows.
 */
export function replayCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('replay'))
    .description('rebuild a stream’s projection (counts, rollups) from the raw records in the log')
    .addOption(new Option('--stream <stream>', 'stream to replay').choices(STREAMS).makeOptionMandatory())
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const stream = options.stream as string;
      // Imported here: every domain's projection, which no other command needs.
      const { projections } = await import('../roles/projections.ts');
      const { replay } = await import('../sink/replay.ts');
      const projection = projections.find((p) => p.stream === stream);
      if (!projection) throw new BeaconError('REPLAY_UNSUPPORTED', `no projection reads ${stream}`);
      const logger = pino(loggerOptions(config.logLevel));
      const store = await createStore(config);
      await store.open();
      let unlock: () => Promise<void>;
      try {
        unlock = await store.lockProjections('exclusive');
      } catch (err) {
        await store.close();
        throw err;
      }
      const log = await createLog(config, new Metrics(), logger);
      try {
        await log.open();
        const started = performance.now();
        let shown = -1;
        const result = await replay({
          log,
          store,
          projection,
          config,
          batchSize: config.sink.batchSize,
          logger,
          onProgress: ({ records, fraction }) => {
            const percent = Math.floor(fraction * 100);
            if (percent === shown) return;
            shown = percent;
            process.stderr.write(`replay ${stream}: ${records} records (${percent}%)\n`);
          },
        });
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(`replayed ${result.records} ${stream} records in ${seconds.toFixed(1)} s\n`);
      } finally {
        await log.close();
        await unlock();
        await store.close();
      }
    });
}
