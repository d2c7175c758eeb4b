import type { Config } from '../config/schema.ts';
import { BeaconError } from '../errors/catalog.ts';
import type { AlertRules } from './alerts.ts';
import type { CountSettings } from './figures.ts';
import type { HealthRules } from './health.ts';
import { parseDailyReset } from './reset.ts';

const cache = new WeakMap<object, CountSettings>();

/** The counting settings of a configuration, checked once (a bad time zone fails start-up). */
export function countSettings(config: Readonly<Config>): CountSettings {
  let settings = cache.get(config);
  if (!settings) {
    const o = config.occupancy;
    let reset;
    try {
      reset = parseDailyReset(o.resetTime, o.timeZone);
    } catch (err) {
      throw new BeaconError('CONFIG_INVALID', (err as Error).message, { cause: err });
    }
    settings = { neverNegative: o.neverNegative, reset, provisionalWindowMs: o.provisionalWindowMs };
    cache.set(config, settings);
  }
  return settings;
}

/** How sensor health and doorway drift are judged, from a configuration. */
export function healthRules(config: Readonly<Config>): HealthRules {
  const o = config.occupancy;
  return {
    silentAfterMs: o.silentAfterMinutes * 60_000,
    timeZone: o.timeZone,
    driftRatio: o.driftRatio,
    driftMinImbalance: o.driftMinImbalance,
  };
}

/** How occupancy alerts are judged and delivered, from a configuration. */
export function alertRules(config: Readonly<Config>): AlertRules {
  return {
    counts: countSettings(config),
    health: healthRules(config),
    capacityAlertMinutes: config.occupancy.capacityAlertMinutes,
    maxAttempts: config.occupancy.alertMaxAttempts,
  };
}
