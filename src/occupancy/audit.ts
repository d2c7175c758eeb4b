import { v7 as uuidv7 } from 'uuid';
import type { OccupancyWriter } from './store/repositories.ts';

/** What the audit trail records. */
export type AuditAction =
  | 'correction.set'
  | 'correction.deleted'
  | 'space.moved'
  | 'space.move-undone'
  | 'space.changed'
  | 'space.deleted';

/** Records who (`actor`, a token id) did what to a space, in the transaction that did it. */
export function audit(
  tx: OccupancyWriter,
  tenant: string,
  actor: string,
  action: AuditAction,
  space: string,
  detail: Readonly<Record<string, unknown>>,
): Promise<void> {
  return tx.insertAudit(tenant, { id: uuidv7(), at: Date.now(), actor, action, space, detail });
}
