export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
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
