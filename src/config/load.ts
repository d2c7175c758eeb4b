import { readFileSync } from 'node:fs';
import type Type from 'typebox';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { BeaconError } from '../errors/catalog.ts';
import { ConfigSchema, type Config } from './schema.ts';

/** Where the settings come from; flags win over environment, environment over the file. */
export interface ConfigSources {
  /** Settings from command-line flags, as dotted paths (`ingest.maxBatchItems`) to raw values. */
  flags?: Record<string, unknown>;
  /** The environment; only `BEACON_*` variables are read. */
  env?: Record<string, string | undefined>;
  /** Path of an optional YAML file; `BEACON_CONFIG` names one too. */
  file?: string;
}

const ENV_PREFIX = 'BEACON_';
/** BEACON_* variables that are not settings: the config file's path, and bin/beacon's own. */
const ENV_META = new Set(['BEACON_CONFIG', 'BEACON_NODE_FLAGS', 'BEACON_FROM_SOURCE']);

/** Every leaf setting as a dotted path, derived from the schema so no list can drift. */
export function settingPaths(schema: Type.TSchema = ConfigSchema, prefix = ''): string[] {
  const props = (schema as { properties?: Record<string, Type.TSchema> }).properties;
  if (!props) return [prefix];
  return Object.entries(props).flatMap(([key, sub]) => settingPaths(sub, prefix ? `${prefix}.${key}` : key));
}

/** `rateLimit.perSecond` → `BEACON_RATE_LIMIT_PER_SECOND`. */
export function envName(path: string): string {
  return (
    ENV_PREFIX +
    path
      .replace(/\./g, '_')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toUpperCase()
  );
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BeaconError('CONFIG_INVALID', `cannot read config file ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new BeaconError(
      'CONFIG_INVALID',
      `config file ${path} is not valid YAML: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new BeaconError('CONFIG_INVALID', `config file ${path} must hold a mapping of settings`);
  }
  return doc as Record<string, unknown>;
}

/** The `shape` a setting's schema gives for humans, if any. */
function shapeOf(path: string): string | undefined {
  let schema: unknown = ConfigSchema;
  for (const part of path.split('.'))
    schema = (schema as { properties?: Record<string, unknown> }).properties?.[part];
  return (schema as { shape?: string } | undefined)?.shape;
}

function valueAt(config: unknown, path: string): unknown {
  let node = config;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Settings that are valid alone but not together; named by the key to change. */
function checkTogether(config: Config): void {
  const { minInsyncReplicas, replicationFactor } = config.kafka;
  if (minInsyncReplicas > replicationFactor) {
    // Kafka would refuse every acks=all produce (NOT_ENOUGH_REPLICAS): nothing could ever be accepted.
    throw new BeaconError(
      'CONFIG_INVALID',
      `config key kafka.minInsyncReplicas must be at most kafka.replicationFactor (${replicationFactor}), not ${minInsyncReplicas}`,
    );
  }
}

/**
 * Reads, merges and validates the configuration once. It fails fast with CONFIG_INVALID naming the
 * first bad key, and returns a frozen object, so nothing later re-reads or mutates settings.
 */
export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? {};
  const paths = settingPaths();
  const byEnv = new Map(paths.map((p) => [envName(p), p]));

  const merged: Record<string, unknown> = {};
  const filePath = sources.file ?? env.BEACON_CONFIG;
  if (filePath) Object.assign(merged, readFile(filePath));

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || ENV_META.has(name)) continue;
    const path = byEnv.get(name);
    if (!path) throw new BeaconError('CONFIG_INVALID', `unknown environment variable ${name}`);
    setPath(merged, path, raw);
  }
  for (const [path, raw] of Object.entries(sources.flags ?? {})) {
    if (raw === undefined) continue;
    if (!paths.includes(path)) throw new BeaconError('CONFIG_INVALID', `unknown setting ${path}`);
    setPath(merged, path, raw);
  }

  const withDefaults = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, merged));
  if (!Value.Check(ConfigSchema, withDefaults)) {
    const first = [...Value.Errors(ConfigSchema, withDefaults)].sort(
      (a, b) => b.instancePath.length - a.instancePath.length,
    )[0]!;
    const key = first.instancePath.slice(1).replace(/\//g, '.') || '(root)';
    // TypeBox reports an unknown key as a `false` sub-schema at that key's path. A pattern is
    // described by the setting's `shape` rather than by its regular expression.
    const shape = first.keyword === 'pattern' ? shapeOf(key) : undefined;
    const detail =
      first.keyword === 'boolean'
        ? 'is not a known setting'
        : shape
          ? `must be ${shape}, not ${JSON.stringify(valueAt(withDefaults, key))}`
          : first.message;
    throw new BeaconError('CONFIG_INVALID', `config key ${key} ${detail}`);
  }
  checkTogether(withDefaults);
  return deepFreeze(withDefaults);
}
