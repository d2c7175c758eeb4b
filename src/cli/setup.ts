import { Command } from 'commander';
import { pino } from 'pino';
import { loggerOptions } from '../observability/logger.ts';
import { configFrom, withConfigFlags } from './options.ts';

export function setupCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('setup'))
    .description(
      'create what the separate roles need, safely again and again: Kafka topics (partitions, replication and min.insync.replicas from config) and store migrations; reports what it created and what already existed, and warns where the Kafka cluster cannot honour the replication settings',
    )
    .option('--json', 'print the report as JSON')
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const { runSetup } = await import('../roles/setup.ts');
      const report = await runSetup(
        config,
        pino(loggerOptions(config.logLevel === 'info' ? 'warn' : config.logLevel)),
      );
      if (options.json) {
        process.stdout.write(JSON.stringify(report) + '\n');
        return;
      }
      const list = (names: string[]) => (names.length > 0 ? names.join(', ') : 'none');
      const lines =
        report.log.backend === 'kafka'
          ? [
              `Log (kafka ${config.log}):`,
              `  created:  ${list(report.log.created)}`,
              `  existing: ${list(report.log.existing)}`,
              `  brokers:  ${report.log.brokers}`,
              ...report.log.warnings.map((w) => `  warning:  ${w}`),
            ]
          : ['Log (embedded): nothing to set up'];
      lines.push(
        `Store (${report.store.backend}):`,
        `  migrations applied: ${list(report.store.migrationsApplied)}`,
      );
      if (report.store.migrationsApplied.length === 0) lines.push('  schema already current');
      if (report.generatedToken) {
        lines.push(
          '',
          'Admin token for tenant "default" (shown once, only its hash is stored):',
          `  ${report.generatedToken}`,
        );
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
