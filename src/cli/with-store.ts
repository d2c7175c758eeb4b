import { pino } from 'pino';
import { loggerOptions } from '../observability/logger.ts';
import { createStore } from '../roles/backends.ts';
import type { BeaconStore } from '../roles/store.ts';
import { bootstrapTenants, DEFAULT_TENANT } from '../tenants/bootstrap.ts';
import { configFrom } from './options.ts';

/**
 * Opens the configured store, runs `fn` against it, and always closes it. On a store never started
 * before it first does what the first start does (default tenant and admin token, shown once), so
 * `beacon token create` works on a fresh machine.
 */
export async function withStore<T>(
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  fn: (store: BeaconStore) => Promise<T>,
): Promise<T> {
  const config = configFrom(options, env);
  const store = await createStore(config);
  await store.open();
  try {
    const logger = pino(loggerOptions(config.logLevel), pino.destination(2));
    const { generatedToken } = await bootstrapTenants(store.tenants, {
      adminToken: config.adminToken,
      logger,
    });
    if (generatedToken)
      process.stderr.write(
        `First use of this store: created tenant "${DEFAULT_TENANT}" and its admin token (shown once):\n${generatedToken}\n`,
      );
    return await fn(store);
  } finally {
    await store.close();
  }
}
