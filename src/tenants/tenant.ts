export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

/** A token as stored: only the SHA-256 of its secret is kept. */
export interface TokenRecord {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly hash: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** Tenants and their tokens. */
export interface TenantRepository {
  /** Creates the tenant unless it exists; returns true when it was created. */
  ensure(tenant: Tenant): Promise<boolean>;
  get(id: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  addToken(token: TokenRecord): Promise<void>;
  tokenByHash(hash: string): Promise<TokenRecord | undefined>;
  listTokens(tenant: string): Promise<TokenRecord[]>;
  /** Marks a token revoked; returns false when there was no such live token. */
  revokeToken(tenant: string, id: string, at: number): Promise<boolean>;
}
