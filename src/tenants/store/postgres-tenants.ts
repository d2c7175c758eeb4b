import { postgresColumns as c } from '../../store/columns.ts';
import type { Queryable } from '../../store/postgres/errors.ts';
import type { PostgresWing } from '../../store/postgres/wing.ts';
import type { Tenant, TokenRecord } from '../model.ts';
import { postgresMigrations } from './postgres-migrations.ts';
import type { BadgeTokenRepository, TenantRepositories, TenantRepository } from './repositories.ts';
import { toTenant, toToken, type TenantRow, type TokenRow } from './rows.ts';

export class PostgresTenantRepository implements TenantRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async ensure(tenant: Tenant): Promise<boolean> {
    const result = await this.#db.query(
      'INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [tenant.id, tenant.name, tenant.createdAt],
    );
    return result.rowCount === 1;
  }

  async get(id: string): Promise<Tenant | undefined> {
    const { rows } = await this.#db.query<TenantRow>('SELECT * FROM tenants WHERE id = $1', [id]);
    return rows[0] && toTenant(rows[0], c);
  }

  async list(): Promise<Tenant[]> {
    const { rows } = await this.#db.query<TenantRow>('SELECT * FROM tenants ORDER BY id');
    return rows.map((r) => toTenant(r, c));
  }

  async page(limit: number, after?: string): Promise<Tenant[]> {
    const { rows } = await this.#db.query<TenantRow>(
      'SELECT * FROM tenants WHERE id > $1 ORDER BY id LIMIT $2',
      [after ?? '', limit],
    );
    return rows.map((r) => toTenant(r, c));
  }

  async setDisabled(id: string, at: number | null): Promise<boolean> {
    const result = await this.#db.query('UPDATE tenants SET disabled_at = $1 WHERE id = $2', [at, id]);
    return result.rowCount === 1;
  }

  async addToken(t: TokenRecord): Promise<void> {
    await this.#db.query(
      'INSERT INTO tokens (id, tenant, name, scopes, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [t.id, t.tenant, t.name, JSON.stringify(t.scopes), t.hash, t.createdAt, t.revokedAt],
    );
  }

  async tokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.#db.query<TokenRow>('SELECT * FROM tokens WHERE hash = $1', [hash]);
    return rows[0] && toToken(rows[0], c);
  }

  async listTokens(tenant: string): Promise<TokenRecord[]> {
    const { rows } = await this.#db.query<TokenRow>(
      'SELECT * FROM tokens WHERE tenant = $1 ORDER BY created_at, id',
      [tenant],
    );
    return rows.map((r) => toToken(r, c));
  }

  async revokeToken(tenant: string, id: string, at: number): Promise<boolean> {
    const result = await this.#db.query(
      'UPDATE tokens SET revoked_at = $1 WHERE tenant = $2 AND id = $3 AND revoked_at IS NULL',
      [at, tenant, id],
    );
    return result.rowCount === 1;
  }
}

export class PostgresBadgeTokenRepository implements BadgeTokenRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async put(tenant: string, hash: string, at: number): Promise<void> {
    await this.#db.query(
      `INSERT INTO badge_tokens (tenant, hash, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (tenant) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at`,
      [tenant, hash, at],
    );
  }

  async tenantOf(hash: string): Promise<string | undefined> {
    const { rows } = await this.#db.query<{ tenant: string }>(
      'SELECT tenant FROM badge_tokens WHERE hash = $1',
      [hash],
    );
    return rows[0]?.tenant;
  }

  async createdAt(tenant: string): Promise<number | undefined> {
    const { rows } = await this.#db.query<{ created_at: unknown }>(
      'SELECT created_at FROM badge_tokens WHERE tenant = $1',
      [tenant],
    );
    return rows[0] && c.int(rows[0].created_at);
  }

  async delete(tenant: string): Promise<boolean> {
    const result = await this.#db.query('DELETE FROM badge_tokens WHERE tenant = $1', [tenant]);
    return result.rowCount === 1;
  }
}

/** Tenants and tokens on PostgreSQL. */
export const postgresTenants: PostgresWing<TenantRepositories, object> = {
  name: 'tenants',
  migrations: postgresMigrations,
  open: ({ db }) => ({
    repositories: {
      tenants: new PostgresTenantRepository(db),
      badgeTokens: new PostgresBadgeTokenRepository(db),
    },
    writers: () => ({}),
  }),
};
