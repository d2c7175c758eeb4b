import { Command, Option } from 'commander';
import { pino } from 'pino';
import { BeaconError } from '../errors/catalog.ts';
import { loggerOptions } from '../observability/logger.ts';
import { createStore } from '../roles/backends.ts';
import type { BeaconStore } from '../roles/store.ts';
import { bootstrapTenants, DEFAULT_TENANT } from '../tenants/bootstrap.ts';
import { SCOPES, type Scope } from '../tenants/model.ts';
import { createToken } from '../tenants/tokens.ts';
import { configFrom, withConfigFlags } from './options.ts';

/**
 * Opens the configured store, runs `fn` against it, and always closes it. On a store never started
 * before it first does what the first start does (default tenant and admin token, shown once), so
 * `beacon token create` works on a fresh machine.
 */
async function withStore<T>(
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

/** `beacon token create|list|revoke`: manage API tokens directly in the store. */
export function tokenCommand(env: NodeJS.ProcessEnv): Command {
  const token = new Command('token').description('create, list and revoke API tokens');

  withConfigFlags(token.command('create'))
    .description('create a token and print its secret once')
    .addOption(
      new Option('--scope <scope...>', 'scopes the token holds').choices(SCOPES).makeOptionMandatory(),
    )
    .option('--tenant <tenant>', 'tenant the token belongs to', DEFAULT_TENANT)
    .option('--name <name>', 'a label to recognise the token by', 'cli')
    .option('--json', 'print JSON instead of text')
    .action((options: Record<string, unknown>) =>
      withStore(options, env, async (store) => {
        const tenant = options.tenant as string;
        if (!(await store.tenants.get(tenant))) throw new BeaconError('NOT_FOUND', `no tenant ${tenant}`);
        const { secret, token: record } = await createToken(store.tenants, {
          tenant,
          name: options.name as string,
          scopes: options.scope as Scope[],
        });
        process.stdout.write(
          options.json
            ? JSON.stringify({ id: record.id, tenant, scopes: record.scopes, token: secret }) + '\n'
            : `${secret}\n(id ${record.id}, tenant ${tenant}, scopes ${record.scopes.join(',')}; shown once)\n`,
        );
      }),
    );

  withConfigFlags(token.command('list'))
    .description('list a tenant’s tokens (never their secrets)')
    .option('--tenant <tenant>', 'tenant', DEFAULT_TENANT)
    .action((options: Record<string, unknown>) =>
      withStore(options, env, async (store) => {
        for (const t of await store.tenants.listTokens(options.tenant as string)) {
          const state = t.revokedAt === null ? 'active' : `revoked ${new Date(t.revokedAt).toISOString()}`;
          process.stdout.write(`${t.id}  ${t.scopes.join(',').padEnd(18)} ${t.name}  (${state})\n`);
        }
      }),
    );

  withConfigFlags(token.command('revoke'))
    .description('revoke a token by id')
    .argument('<id>', 'token id, as `token list` shows it')
    .option('--tenant <tenant>', 'tenant', DEFAULT_TENANT)
    .action((id: string, options: Record<string, unknown>) =>
      withStore(options, env, async (store) => {
        if (!(await store.tenants.revokeToken(options.tenant as string, id, Date.now()))) {
          throw new BeaconError('NOT_FOUND', `no active token ${id}`);
        }
        process.stdout.write(`revoked ${id}\n`);
      }),
    );
  return token;
}
