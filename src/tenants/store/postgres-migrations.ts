import type { PgMigration } from '../../store/postgres/migrations.ts';

/** The tenants wing's part of the PostgreSQL schema (version numbers are the store's). */
export const postgresMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: () => `
      CREATE TABLE tenants (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE tokens (
        id text COLLATE "C" PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        scopes json NOT NULL,
        hash text NOT NULL UNIQUE,
        created_at bigint NOT NULL,
        revoked_at bigint
      );
      CREATE INDEX tokens_tenant ON tokens (tenant);`,
  },
  {
    // Operators disable a tenant instead of deleting its history.
    version: 8,
    name: '008_tenants_disabled',
    sql: () => 'ALTER TABLE tenants ADD COLUMN disabled_at bigint;',
  },
  {
    // One read-only badge token per tenant (only its hash), which opens the badge SVGs and nothing else.
    // Version 17 is left to the status pages, made at the same time.
    version: 18,
    name: '018_badge_tokens',
    sql: () => `
      CREATE TABLE badge_tokens (
        tenant text COLLATE "C" PRIMARY KEY REFERENCES tenants (id),
        hash text NOT NULL UNIQUE,
        created_at bigint NOT NULL
      );`,
  },
];
