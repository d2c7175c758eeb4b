import type { Scope } from '../http/principal.ts';

/** What a tenant id may be: lower-case letters, digits and dashes, as in a host name. */
export const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  /** When an operator disabled it: its tokens are refused and nothing of it is accepted. */
  readonly disabledAt?: number | null;
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
