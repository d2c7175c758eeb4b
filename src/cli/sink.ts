import { Command } from 'commander';
import { configFrom, withConfigFlags } from './options.ts';
import { runUntilSignal } from './signals.ts';

export function sinkCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('sink'))
    .description(
      'run the projections as consumer-group members: they read the log and write the store, each batch with its checkpoint; start several to share partitions',
    )
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const { startSinkRole } = await import('../roles/sink/role.ts');
      const sink = await startSinkRole(config);
      process.stdout.write(
        `Beacon sink is running (log: ${config.log}, store: ${config.store}). Metrics: ${sink.url}/metrics\n`,
      );
      await runUntilSignal(() => sink.close(), config.shutdown.timeoutMs, sink.logger);
    });
}
