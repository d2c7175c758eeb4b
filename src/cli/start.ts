import { Command } from 'commander';
import { configFrom, withConfigFlags } from './options.ts';
import { runUntilSignal } from './signals.ts';

export function startCommand(env: NodeJS.ProcessEnv): Command {
  return withConfigFlags(new Command('start'))
    .description(
      'run all of Beacon in one process on embedded storage (API, log, sinks, live stream, dashboard)',
    )
    .action(async (options: Record<string, unknown>) => {
      const config = configFrom(options, env);
      const { startBeacon } = await import('../roles/start.ts');
      const beacon = await startBeacon(config);
      const lines = [
        '',
        `Beacon is running.`,
        `  Dashboard: ${beacon.url}/live`,
        `  API docs:  ${beacon.url}/docs   (OpenAPI: ${beacon.url}/openapi.json)`,
        `  Data:      ${config.dataDir}`,
      ];
      if (beacon.generatedToken) {
        lines.push(
          '',
          `  Admin token (shown once, only its hash is stored):`,
          `    ${beacon.generatedToken}`,
          `  Try: curl -X POST ${beacon.url}/v1/messages -H 'Authorization: Bearer ${beacon.generatedToken}' -H 'Content-Type: application/json' -d '{"hello":"world"}'`,
        );
      }
      process.stdout.write(lines.join('\n') + '\n\n');
      await runUntilSignal(() => beacon.close(), config.shutdown.timeoutMs, beacon.logger);
    });
}
