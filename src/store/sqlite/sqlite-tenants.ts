import type { SqliteDatabase } from '../../sqlite/database.ts';
import type { Scope, Tenant, TenantRepository, TokenRecord } from '../../tenants/tenant.ts';

interface TenantRow {
  id: string;
  name: string;
  created_at: number;
}
interface TokenRow {
  id: string;
  tenant: string;
  name: string;
  scopes: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

const toTenant = (r: TenantRow): Tenant => ({ id: r.id, name: r.name, createdAt: r.created_at });
const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  scopes: JSON.parse(r.scopes) as Scope[],
  hash: r.hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

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
    return Promise.resolve(row && toTenant(row));
  }

  list(): Promise<Tenant[]> {
    return Promise.resolve(
      this.#db.prepare<[], TenantRow>('SELECT * FROM tenants ORDER BY id').all().map(toTenant),
    );
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
    return Promise.resolve(row && toToken(row));
  }

  listTokens(tenant: string): Promise<TokenRecord[]> {
    const rows = this.#db
      .prepare<[string], TokenRow>('SELECT * FROM tokens WHERE tenant = ? ORDER BY created_at, id')
      .all(tenant);
    return Promise.resolve(rows.map(toToken));
  }

  revokeToken(tenant: string, id: string, at: number): Promise<boolean> {
    const result = this.#db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE tenant = ? AND id = ? AND revoked_at IS NULL')
      .run(at, tenant, id);
    return Promise.resolve(result.changes === 1);
  }
}
