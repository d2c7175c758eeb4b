import type { Logger } from 'pino';
import type { TenantRepository } from './store/repositories.ts';
import { createToken, hashToken } from './tokens.ts';

export const DEFAULT_TENANT = 'default';

/**
 * First start: creates the default tenant and its admin token. The token comes from
 * `BEACON_ADMIN_TOKEN` when set; otherwise a random one is printed once (only its hash is kept).
 * Returns the secret when one was generated, so the caller can show it.
 */
export async function bootstrapTenants(
  tenants: TenantRepository,
  options: { adminToken?: string | undefined; logger: Logger },
): Promise<{ createdTenant: boolean; generatedToken?: string }> {
  const createdTenant = await tenants.ensure({ id: DEFAULT_TENANT, name: 'Default', createdAt: Date.now() });
  if (options.adminToken) {
    const known = await tenants.tokenByHash(hashToken(options.adminToken));
    if (!known) {
      await createToken(tenants, {
        tenant: DEFAULT_TENANT,
        name: 'admin (BEACON_ADMIN_TOKEN)',
        scopes: ['admin', 'ingest', 'read', 'operator'],
        secret: options.adminToken,
      });
      options.logger.info({ tenant: DEFAULT_TENANT }, 'admin token from configuration registered');
    }
    return { createdTenant };
  }
  if (!createdTenant) return { createdTenant };
  const { secret } = await createToken(tenants, {
    tenant: DEFAULT_TENANT,
    name: 'admin (first start)',
    scopes: ['admin', 'ingest', 'read', 'operator'],
  });
  return { createdTenant, generatedToken: secret };
}
