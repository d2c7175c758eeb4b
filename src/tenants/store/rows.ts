import type { Columns } from '../../store/columns.ts';
import type { Scope } from '../../http/principal.ts';
import type { Tenant, TokenRecord } from '../model.ts';

/** A `tenants` row as either driver returns it (see `Columns`). */
export interface TenantRow {
  readonly id: string;
  readonly name: string;
  readonly created_at: unknown;
  readonly disabled_at: unknown;
}

/** A `tokens` row as either driver returns it. */
export interface TokenRow {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly scopes: unknown;
  readonly hash: string;
  readonly created_at: unknown;
  readonly revoked_at: unknown;
}

export const toTenant = (r: TenantRow, c: Columns): Tenant => ({
  id: r.id,
  name: r.name,
  createdAt: c.int(r.created_at),
  disabledAt: c.intOrNull(r.disabled_at),
});

export const toToken = (r: TokenRow, c: Columns): TokenRecord => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  scopes: c.json<Scope[]>(r.scopes),
  hash: r.hash,
  createdAt: c.int(r.created_at),
  revokedAt: c.intOrNull(r.revoked_at),
});
