import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';

/** Flags every role takes, and the config path each one sets. */
export const COMMON_FLAGS: readonly [flag: string, path: string, help: string][] = [
  ['--port <port>', 'port', 'TCP port for the API (BEACON_PORT; default 8080)'],
  ['--host <host>', 'host', 'address to bind (BEACON_HOST; default 0.0.0.0)'],
  ['--data-dir <dir>', 'dataDir', 'directory for embedded storage (BEACON_DATA_DIR; default ./data)'],
  ['--log <backend>', 'log', 'log backend: embedded or kafka://host:port (BEACON_LOG)'],
  ['--store <backend>', 'store', 'store backend: sqlite or postgres://… (BEACON_STORE)'],
  ['--log-level <level>', 'logLevel', 'fatal, error, warn, info, debug, trace or silent (BEACON_LOG_LEVEL)'],
];

/** Adds the common flags and `--config` to a command. */
export function withConfigFlags(command: Command): Command {
  command.option('-c, --config <file>', 'YAML configuration file (BEACON_CONFIG)');
  command.option('--set <path=value...>', 'any setting by its path, e.g. --set ingest.maxBatchItems=500');
  for (const [flag, , help] of COMMON_FLAGS) command.option(flag, help);
  return command;
}

/** Loads the configuration from a command's flags, the environment and the file, in that order. */
export function configFrom(options: Record<string, unknown>, env: NodeJS.ProcessEnv): Readonly<Config> {
  const flags: Record<string, unknown> = {};
  for (const [flag, path] of COMMON_FLAGS) {
    const name = flag
      .slice(2)
      .split(' ')[0]!
      .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (options[name] !== undefined) flags[path] = options[name];
  }
  for (const pair of (options.set as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--set takes path=value, got ${pair}`);
    flags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return loadConfig({ flags, env, file: options.config as string | undefined });
}
