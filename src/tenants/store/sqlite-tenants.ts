import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';
import type { Tenant, TokenRecord } from '../model.ts';
import type { BadgeTokenRepository, TenantRepositories, TenantRepository } from './repositories.ts';
import { toTenant, toToken, type TenantRow, type TokenRow } from './rows.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';

export class SqliteTenantRepository implements TenantRepository {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  ensure(tenant: Tenant): Promise<boolean> {
    const result = this.#db
      .prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(tenant.id, tenant.name, tenant.createdAt);
    return Promise.resolve(result.changes === 1);
  }

  get(id: string): Promise<Tenant | undefined> {
    const row = this.#db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE id = ?').get(id);
    return Promise.resolve(row && toTenant(row, c));
  }

  list(): Promise<Tenant[]> {
    const rows = this.#db.prepare<[], TenantRow>('SELECT * FROM tenants ORDER BY id').all();
    return Promise.resolve(rows.map((r) => toTenant(r, c)));
  }

  page(limit: number, after?: string): Promise<Tenant[]> {
    const rows = this.#db
      .prepare<[string, number], TenantRow>('SELECT * FROM tenants WHERE id > ? ORDER BY id LIMIT ?')
      .all(after ?? '', limit);
    return Promise.resolve(rows.map((r) => toTenant(r, c)));
  }

  setDisabled(id: string, at: number | null): Promise<boolean> {
    const result = this.#db.prepare('UPDATE tenants SET disabled_at = ? WHERE id = ?').run(at, id);
    return Promise.resolve(result.changes === 1);
  }

  addToken(t: TokenRecord): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO tokens (id, tenant, name, scopes, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(t.id, t.tenant, t.name, JSON.stringify(t.scopes), t.hash, t.createdAt, t.revokedAt);
    return Promise.resolve();
  }

  tokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const row = this.#db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE hash = ?').get(hash);
    return Promise.resolve(row && toToken(row, c));
  }

  listTokens(tenant: string): Promise<TokenRecord[]> {
    const rows = this.#db
      .prepare<[string], TokenRow>('SELECT * FROM tokens WHERE tenant = ? ORDER BY created_at, id')
      .all(tenant);
    return Promise.resolve(rows.map((r) => toToken(r, c)));
  }

  revokeToken(tenant: string, id: string, at: number): Promise<boolean> {
    const result = this.#db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE tenant = ? AND id = ? AND revoked_at IS NULL')
      .run(at, tenant, id);
    return Promise.resolve(result.changes === 1);
  }
}

export class SqliteBadgeTokenRepository implements BadgeTokenRepository {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  put(tenant: string, hash: string, at: number): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO badge_tokens (tenant, hash, created_at) VALUES (?, ?, ?)
         ON CONFLICT (tenant) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at`,
      )
      .run(tenant, hash, at);
    return Promise.resolve();
  }

  tenantOf(hash: string): Promise<string | undefined> {
    const row = this.#db
      .prepare<[string], { tenant: string }>('SELECT tenant FROM badge_tokens WHERE hash = ?')
      .get(hash);
    return Promise.resolve(row?.tenant);
  }

  createdAt(tenant: string): Promise<number | undefined> {
    const row = this.#db
      .prepare<[string], { created_at: unknown }>('SELECT created_at FROM badge_tokens WHERE tenant = ?')
      .get(tenant);
    return Promise.resolve(row && c.int(row.created_at));
  }

  delete(tenant: string): Promise<boolean> {
    const result = this.#db.prepare('DELETE FROM badge_tokens WHERE tenant = ?').run(tenant);
    return Promise.resolve(result.changes === 1);
  }
}

/** Tenants and tokens on SQLite; the API thread writes them on the store's write connection. */
export const sqliteTenants: SqliteWing<TenantRepositories, object> = {
  migrations: sqliteMigrations,
  repositories: ({ writer }) => ({
    tenants: new SqliteTenantRepository(writer),
    badgeTokens: new SqliteBadgeTokenRepository(writer),
  }),
  writers: () => ({}),
};
