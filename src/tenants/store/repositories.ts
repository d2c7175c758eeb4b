import type { Tenant, TokenRecord } from '../model.ts';

/** Tenants and their tokens. */
export interface TenantRepository {
  /** Creates the tenant unless it exists; returns true when it was created. */
  ensure(tenant: Tenant): Promise<boolean>;
  get(id: string): Promise<Tenant | undefined>;
  /** Every tenant, by id. For start-up work over all tenants; listings page with `page`. */
  list(): Promise<Tenant[]>;
  /** Up to `limit` tenants with ids after `after`, by id. */
  page(limit: number, after?: string): Promise<Tenant[]>;
  /** Disables (a time) or enables (null) a tenant; false when there is no such tenant. */
  setDisabled(id: string, at: number | null): Promise<boolean>;
  addToken(token: TokenRecord): Promise<void>;
  tokenByHash(hash: string): Promise<TokenRecord | undefined>;
  listTokens(tenant: string): Promise<TokenRecord[]>;
  /** Marks a token revoked; returns false when there was no such live token. */
  revokeToken(tenant: string, id: string, at: number): Promise<boolean>;
}

/**
 * Each tenant's badge token: at most one, kept as the SHA-256 of its secret. It opens the badge SVGs
 * of the tenant's targets and nothing else.
 */
export interface BadgeTokenRepository {
  /** Makes `hash` the tenant's badge token, replacing any it had (a rotation). */
  put(tenant: string, hash: string, at: number): Promise<void>;
  /** The tenant whose badge token has this hash, or undefined. */
  tenantOf(hash: string): Promise<string | undefined>;
  /** When the tenant's badge token was made, or undefined when it has none. */
  createdAt(tenant: string): Promise<number | undefined>;
  /** Deletes the tenant's badge token; false when it had none. */
  delete(tenant: string): Promise<boolean>;
}

/** The tenants wing's members of an opened store. */
export interface TenantRepositories {
  readonly tenants: TenantRepository;
  readonly badgeTokens: BadgeTokenRepository;
}
