import { Command } from 'commander';
import { BeaconError } from '../errors/catalog.ts';
import { TENANT_ID } from '../tenants/model.ts';
import { createToken } from '../tenants/tokens.ts';
import { isoTime } from '../wire/time.ts';
import { withConfigFlags } from './options.ts';
import { withStore } from './with-store.ts';

const PAGE = 1000;

/**
 * `beacon tenant create|list|disable|enable`: the operator's tenant management, directly in the
 * store (the API's `/v1/tenants` does the same with an `operator` token).
 */
export function tenantCommand(env: NodeJS.ProcessEnv): Command {
  const tenant = new Command('tenant').description('create, list, disable and enable tenants');

  withConfigFlags(tenant.command('create'))
    .description('create a tenant and print its first admin token once')
    .argument('<id>', 'lower-case letters, digits and dashes, at most 63')
    .option('--name <name>', 'a display name (default: the id)')
    .option('--json', 'print JSON instead of text')
    .action((id: string, options: Record<string, unknown>) => {
      if (!TENANT_ID.test(id)) {
        throw new BeaconError(
          'TENANT_INVALID',
          `${id} is not lower-case letters, digits and dashes (at most 63)`,
        );
      }
      return withStore(options, env, async (store) => {
        const name = (options.name as string | undefined) ?? id;
        if (!(await store.tenants.ensure({ id, name, createdAt: Date.now(), disabledAt: null }))) {
          throw new BeaconError('ALREADY_EXISTS', `a tenant ${id} exists already`);
        }
        const { secret } = await createToken(store.tenants, {
          tenant: id,
          name: 'admin (beacon tenant create)',
          scopes: ['admin', 'ingest', 'read'],
        });
        process.stdout.write(
          options.json
            ? JSON.stringify({ tenant: id, name, adminToken: secret }) + '\n'
            : `created tenant ${id}; its admin token (shown once):\n${secret}\n`,
        );
      });
    });

  withConfigFlags(tenant.command('list'))
    .description('list tenants')
    .option('--json', 'print JSON lines instead of text')
    .action((options: Record<string, unknown>) =>
      withStore(options, env, async (store) => {
        for (
          let after: string | undefined, rows;
          (rows = await store.tenants.page(PAGE, after)).length > 0;
        ) {
          for (const t of rows) {
            const disabled = t.disabledAt == null ? null : isoTime(t.disabledAt);
            process.stdout.write(
              options.json
                ? JSON.stringify({
                    id: t.id,
                    name: t.name,
                    createdAt: isoTime(t.createdAt),
                    disabledAt: disabled,
                  }) + '\n'
                : `${t.id.padEnd(24)} ${disabled === null ? 'enabled ' : 'disabled'}  ${t.name}\n`,
            );
          }
          after = rows.at(-1)!.id;
        }
      }),
    );

  for (const action of ['disable', 'enable'] as const) {
    withConfigFlags(tenant.command(action))
      .description(
        action === 'disable'
          ? 'refuse a tenant’s tokens and everything it sends (its data stays)'
          : 'accept a disabled tenant again',
      )
      .argument('<id>', 'tenant id')
      .action((id: string, options: Record<string, unknown>) =>
        withStore(options, env, async (store) => {
          if (!(await store.tenants.setDisabled(id, action === 'disable' ? Date.now() : null))) {
            throw new BeaconError('NOT_FOUND', `no tenant ${id}`);
          }
          process.stdout.write(
            `${action}d tenant ${id}${action === 'disable' ? ' (running servers notice within 5 s)' : ''}\n`,
          );
        }),
      );
  }
  return tenant;
}
