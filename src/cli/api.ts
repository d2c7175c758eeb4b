import { Command } from 'commander';
import { configFrom, withConfigFlags } from './options.ts';
import { runUntilSignal } from './signals.ts';

export function apiCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('api'))
    .description(
      'serve ingest, queries, the dashboard and the live stream, without sinks (run `beacon sink` beside it); with --log kafka://… every api process tails every record',
    )
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const { startBeacon } = await import('../roles/start.ts');
      const beacon = await startBeacon(config, { sinks: false });
      const lines = [
        '',
        `Beacon API is running (log: ${config.log}, store: ${config.store}; no sinks in this process).`,
        `  Dashboard: ${beacon.url}/live`,
        `  API docs:  ${beacon.url}/docs   (OpenAPI: ${beacon.url}/openapi.json)`,
      ];
      if (beacon.generatedToken) {
        lines.push(
          '',
          `  Admin token (shown once, only its hash is stored):`,
          `    ${beacon.generatedToken}`,
        );
      }
      process.stdout.write(lines.join('\n') + '\n\n');
      await runUntilSignal(() => beacon.close(), config.shutdown.timeoutMs, beacon.logger);
    });
}
