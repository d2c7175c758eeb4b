import { Command } from 'commander';
import { configFrom, withConfigFlags } from './options.ts';
import { runUntilSignal } from './signals.ts';

/** `beacon probe [--shard i/n] [--region name]`: run only the prober, writing through the log. */
export function probeCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('probe'))
    .description(
      'run only the uptime prober; checks go through the log to the sinks (shard with --shard i/n)',
    )
    .option('--shard <i/n>', 'check the i-th of n shards of the targets (BEACON_MONITOR_SHARD; default 0/1)')
    .option('--region <name>', 'region reported with each check (BEACON_MONITOR_REGION; default local)')
    .action(async (options: Record<string, unknown>) => {
      const set = [...((options.set as string[] | undefined) ?? [])];
      if (options.shard !== undefined) set.push(`monitor.shard=${options.shard as string}`);
      if (options.region !== undefined) set.push(`monitor.region=${options.region as string}`);
      const config = configFrom({ ...options, set }, env);
      const { startProbe } = await import('../roles/probe.ts');
      const probe = await startProbe(config);
      process.stdout.write(
        `Beacon probe is running (shard ${config.monitor.shard}, region ${config.monitor.region}).\n  Metrics: ${probe.url}/metrics\n`,
      );
      await runUntilSignal(() => probe.close(), config.shutdown.timeoutMs, probe.logger);
    });
}
