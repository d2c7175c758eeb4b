/**
 * Who a request acts as, and what it may do: the API engine's view of authentication. `tenants/`
 * stores tokens and implements `Authenticate`; `http/` only asks it.
 */

/**
 * What a token may do. `admin` may do everything its tenant can (it holds `ingest` and `read`);
 * `operator` manages the tenants of the whole instance, and only a token given it holds it.
 */
export const SCOPES = ['ingest', 'read', 'admin', 'operator'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who a request acts as, once its token checks out. */
export interface Principal {
  readonly tenant: string;
  readonly scopes: readonly Scope[];
  readonly tokenId: string;
  /** Its tenant was disabled by an operator: the request is refused. */
  readonly tenantDisabled?: boolean;
}

/** Resolves bearer secrets to principals (tenants/tokens.ts keeps the tokens). */
export interface Authenticate {
  /** The principal a secret stands for; null when it is no live token. */
  authenticate(secret: string): Promise<Principal | null>;
  /** Whether a tenant is disabled, for paths that authenticate otherwise (OAuth2, public collect). */
  tenantDisabled(tenant: string): Promise<boolean>;
  /** Forgets cached answers, so a change made in this process applies at once. */
  forget(): void;
}
