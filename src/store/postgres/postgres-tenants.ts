import type { Queryable } from './errors.ts';
import type { Scope, Tenant, TenantRepository, TokenRecord } from '../../tenants/tenant.ts';

/** bigint columns arrive as strings (they may exceed 2^53); Beacon's times are epoch ms, which fit. */
interface TenantRow {
  id: string;
  name: string;
  created_at: string;
}
interface TokenRow {
  id: string;
  tenant: string;
  name: string;
  scopes: Scope[];
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

const toTenant = (r: TenantRow): Tenant => ({ id: r.id, name: r.name, createdAt: Number(r.created_at) });
const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  scopes: r.scopes,
  hash: r.hash,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export class PostgresTenantRepository implements TenantRepository {
  readonly #pool: Queryable;
  constructor(pool: Queryable) {
    this.#pool = pool;
  }

  async ensure(tenant: Tenant): Promise<boolean> {
    const result = await this.#pool.query(
      'INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [tenant.id, tenant.name, tenant.createdAt],
    );
    return result.rowCount === 1;
  }

  async get(id: string): Promise<Tenant | undefined> {
    const { rows } = await this.#pool.query<TenantRow>('SELECT * FROM tenants WHERE id = $1', [id]);
    return rows[0] && toTenant(rows[0]);
  }

  async list(): Promise<Tenant[]> {
    const { rows } = await this.#pool.query<TenantRow>('SELECT * FROM tenants ORDER BY id');
    return rows.map(toTenant);
  }

  async addToken(t: TokenRecord): Promise<void> {
    await this.#pool.query(
      'INSERT INTO tokens (id, tenant, name, scopes, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [t.id, t.tenant, t.name, JSON.stringify(t.scopes), t.hash, t.createdAt, t.revokedAt],
    );
  }

  async tokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#pool.query<TokenRow>('SELECT * FROM tokens WHERE hash = $1', [hash]);
    return rows[0] && toToken(rows[0]);
  }

  async listTokens(tenant: string): Promise<TokenRecord[]> {
    const { rows } = await this.#pool.query<TokenRow>(
      'SELECT * FROM tokens WHERE tenant = $1 ORDER BY created_at, id',
      [tenant],
    );
    return rows.map(toToken);
  }

  async revokeToken(tenant: string, id: string, at: number): Promise<boolean> {
    const result = await this.#pool.query(
      'UPDATE tokens SET revoked_at = $1 WHERE tenant = $2 AND id = $3 AND revoked_at IS NULL',
      [at, tenant, id],
    );
    return result.rowCount === 1;
  }
}
