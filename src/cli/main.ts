import { Command } from 'commander';
import { isBeaconError } from '../errors/catalog.ts';
import { apiCommand } from './api.ts';
import { compactCommand } from './compact.ts';
import { storageCommand } from './storage.ts';
import { replayCommand } from './replay.ts';
import { reprocessCommand } from './reprocess.ts';
import { probeCommand } from './probe.ts';
import { setupCommand } from './setup.ts';
import { sinkCommand } from './sink.ts';
import { startCommand } from './start.ts';
import { tenantCommand } from './tenant.ts';
import { tokenCommand } from './token.ts';

// Each command imports its role when it runs, so a process loads only the code of the role it is:
// a `beacon probe` never loads Fastify, the dashboard's routes or the analytics parsers.

// The only place that reads process.env: commands receive it and pass it to loadConfig.
const env = process.env;

const program = new Command('beacon')
  .description('Beacon: a self-hosted pipeline for time-series signals')
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(startCommand(env))
  .addCommand(tokenCommand(env))
  .addCommand(tenantCommand(env))
  .addCommand(replayCommand(env))
  .addCommand(reprocessCommand(env))
  .addCommand(compactCommand(env))
  .addCommand(storageCommand(env))
  .addCommand(setupCommand(env))
  .addCommand(apiCommand(env))
  .addCommand(sinkCommand(env))
  .addCommand(probeCommand(env));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isBeaconError(err)) {
    process.stderr.write(`beacon: ${err.code}: ${err.message}\n`);
  } else {
    process.stderr.write(`beacon: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
});
