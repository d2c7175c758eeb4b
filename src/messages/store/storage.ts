import type { TableUse } from '../../store/storage.ts';

/** The messages' tables in a storage report, on either backend. */
export const messageStorage: readonly TableUse[] = [
  {
    table: 'messages',
    stream: 'messages',
    tier: 'hot',
    label: 'messages, one row each',
    records: 'SELECT COUNT(*) AS n FROM messages',
  },
  { table: 'message_keys', stream: 'messages', tier: 'derived', label: 'client idempotency keys' },
];
