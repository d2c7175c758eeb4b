import type { Migration } from '../../sqlite/database.ts';

/** The tenants wing's part of the SQLite schema (version numbers are the store's). */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: `
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants (id),
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX tokens_tenant ON tokens (tenant);`,
  },
  {
    // Operators disable a tenant instead of deleting its history.
    version: 8,
    name: '008_tenants_disabled',
    sql: 'ALTER TABLE tenants ADD COLUMN disabled_at INTEGER;',
  },
  {
    // One read-only badge token per tenant (only its hash), which opens the badge SVGs and nothing else.
    // Version 17 is left to the status pages, made at the same time.
    version: 18,
    name: '018_badge_tokens',
    sql: `
      CREATE TABLE badge_tokens (
        tenant TEXT PRIMARY KEY REFERENCES tenants (id),
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;`,
  },
];
