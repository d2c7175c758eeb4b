import { Command, Option } from 'commander';
import { BeaconError } from '../errors/catalog.ts';
import { DEFAULT_TENANT } from '../tenants/bootstrap.ts';
import { SCOPES, type Scope } from '../http/principal.ts';
import { createToken } from '../tenants/tokens.ts';
import { withConfigFlags } from './options.ts';
import { withStore } from './with-store.ts';

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
