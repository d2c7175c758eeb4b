import type { PgMigration } from '../../store/postgres/migrations.ts';
import { timeTable } from '../../store/postgres/partitions.ts';

/** Keyset order is the primary key, so a page at any depth is one index seek. */
const messagesColumns = `
        tenant text COLLATE "C" NOT NULL,
        received_at timestamptz NOT NULL,
        id text COLLATE "C" NOT NULL,
        -- The client's idempotency key; NULL when the client gave none (the key was the id).
        key text COLLATE "C",
        payload json NOT NULL,
        PRIMARY KEY (tenant, received_at, id)`;

/** The messages wing's part of the PostgreSQL schema (version numbers are the store's). */
export const postgresMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: (layout) => `
      ${timeTable(layout, 'messages', messagesColumns, 'received_at', "interval '1 day'")}
      ${
        layout === 'native'
          ? // Native range partitions by day, created ahead of time and on demand (postgres-messages.ts).
            'CREATE INDEX messages_received_brin ON messages USING brin (received_at);'
          : `ALTER TABLE messages SET (timescaledb.compress, timescaledb.compress_segmentby = 'tenant',
        timescaledb.compress_orderby = 'received_at, id');
      SELECT add_compression_policy('messages', interval '7 days');`
      }
      -- A unique key on a partitioned table must contain the partition column, so (tenant, key)
      -- cannot be unique on messages itself. This unpartitioned table holds every live client key:
      -- a record with one is new exactly when its key inserts here. Records without (key = id) only
      -- repeat as redeliveries, which the primary key drops. Retention deletes old keys with the rows.
      CREATE TABLE message_keys (
        tenant text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        received_at timestamptz NOT NULL,
        id text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, key)
      );
      CREATE INDEX message_keys_received_brin ON message_keys USING brin (received_at);`,
  },
];
