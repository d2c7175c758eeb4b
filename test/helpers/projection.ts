import { loadConfig } from '../../src/config/load.ts';
import type { ProjectionContext } from '../../src/sink/projection.ts';
import type { BeaconStore } from '../../src/roles/store.ts';

/**
 * The context a projection gets outside a sink, for tests that call `apply` themselves: default
 * settings, nobody listening, and after-commit steps that would push frames left out.
 */
export const quietContext = (store: BeaconStore): ProjectionContext<BeaconStore> => ({
  config: loadConfig(),
  store,
  afterCommit: () => undefined,
  publish: () => undefined,
  listening: () => false,
});
