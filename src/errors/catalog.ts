/**
 * The one catalog of Beacon's error codes. Every error a client or operator can see is listed here
 * with its HTTP status; docs/errors.md documents each code and a test keeps the two in step.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

export const catalog = {
  BAD_JSON: { status: 400, message: 'The body is not valid JSON' },
  JSON_TOO_DEEP: { status: 400, message: 'The JSON nests deeper than allowed' },
  NUMBER_NOT_FINITE: { status: 400, message: 'A number is out of the range JSON values can carry here' },
  INVALID_UTF8: { status: 400, message: 'The body is not valid UTF-8' },
  INVALID_UNICODE: { status: 400, message: 'A JSON string escapes half of a surrogate pair' },
  RECORD_INVALID: { status: 400, message: 'The record cannot be written to the log' },
  UPGRADE_REQUIRED: { status: 426, message: 'This path speaks only WebSocket' },
  NOT_AN_OBJECT: { status: 400, message: 'Each message must be a JSON object' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema' },
  BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time' },
  URI_TOO_LONG: { status: 414, message: 'The URL is longer than allowed' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested range is not in the file' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are larger than allowed' },
  BAD_CURSOR: { status: 400, message: 'The cursor is not one this server issued' },
  BATCH_TOO_LARGE: { status: 413, message: 'The batch has more items than allowed' },
  BATCH_EMPTY: { status: 400, message: 'The batch has no items' },
  BODY_TOO_LARGE: { status: 413, message: 'The body is larger than allowed' },
  MESSAGE_TOO_LARGE: { status: 413, message: 'A message is larger than allowed' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported here' },
  TOKEN_MISSING: { status: 401, message: 'A bearer token is required' },
  TOKEN_INVALID: { status: 401, message: 'The token is not valid' },
  SCOPE_DENIED: { status: 403, message: 'The token lacks the scope this needs' },
  TENANT_DISABLED: { status: 403, message: 'The tenant is disabled' },
  TENANT_INVALID: { status: 400, message: 'The tenant id is not valid' },
  NOT_FOUND: { status: 404, message: 'No such resource' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  BADGE_NOT_FOUND: {
    status: 404,
    message: 'No such badge: unknown target, or a token that does not open it',
  },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state' },
  IDEMPOTENCY_KEY_INVALID: { status: 400, message: 'The Idempotency-Key header is not valid' },
  RATE_LIMITED: { status: 429, message: 'Too many requests for this token' },
  LOG_BUSY: { status: 503, message: 'The log is behind; retry shortly' },
  LOG_UNAVAILABLE: { status: 503, message: 'The log is unavailable; nothing was accepted' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down' },
  STORE_UNAVAILABLE: { status: 503, message: 'The store is unavailable' },
  CONFIG_INVALID: { status: 500, message: 'The configuration is not valid' },
  INTERNAL: { status: 500, message: 'Internal error' },
  SPACE_NOT_FOUND: { status: 404, message: 'No such space' },
  DOORWAY_NOT_FOUND: { status: 404, message: 'No such doorway' },
  SENSOR_NOT_FOUND: { status: 404, message: 'No such sensor' },
  PLACEMENT_NOT_FOUND: { status: 404, message: 'No such placement' },
  ALREADY_EXISTS: { status: 409, message: 'An item with this id already exists' },
  PLACEMENT_OVERLAP: { status: 409, message: 'The placement overlaps another placement of the same sensor' },
  IN_USE: { status: 409, message: 'The item is still referred to and cannot be deleted' },
  REPLAY_UNSUPPORTED: { status: 400, message: 'This stream’s projection cannot be rebuilt by replay' },
  SITE_UNKNOWN: { status: 404, message: 'No such site' },
  SITE_INVALID: { status: 400, message: 'The site settings are not valid' },
  SITE_DOMAIN_DENIED: { status: 403, message: 'The page is not on a domain this site allows' },
  COLLECT_INVALID: { status: 400, message: 'The collect payload is not valid' },
  QUERY_INVALID: { status: 400, message: 'The stats query is not valid' },
  OAUTH_INVALID_CLIENT: { status: 401, message: 'Unknown client or wrong secret' },
  OAUTH_CLIENT_UNKNOWN: { status: 404, message: 'No such OAuth2 client' },
  OAUTH_UNSUPPORTED_GRANT: { status: 400, message: 'Only the client_credentials grant is supported' },
  TARGET_INVALID: { status: 400, message: 'The target definition is not valid' },
  TARGET_READ_ONLY: { status: 409, message: 'The target is defined in the targets file; change it there' },
  TARGETS_FILE_INVALID: { status: 500, message: 'The targets file is not valid' },
  GOAL_INVALID: { status: 400, message: 'The goal definition is not valid' },
  GOAL_UNKNOWN: { status: 404, message: 'No such goal' },
  SEGMENT_INVALID: { status: 400, message: 'The segment definition is not valid' },
  SEGMENT_UNKNOWN: { status: 404, message: 'No such segment' },
  NAME_TAKEN: { status: 409, message: 'The site already has a goal or segment with this name' },
  SHARE_UNKNOWN: { status: 404, message: 'No such shared link, or it was revoked' },
  SHARE_LOCKED: { status: 401, message: 'This shared dashboard needs its password' },
  SHARE_PASSWORD_WRONG: { status: 401, message: 'Wrong password for this shared dashboard' },
  REPORT_INVALID: { status: 400, message: 'The report schedule is not valid' },
  REPORT_UNKNOWN: { status: 404, message: 'No such report' },
  MAIL_UNCONFIGURED: { status: 409, message: 'No SMTP server is configured to send mail' },
  IMPORT_INVALID: { status: 400, message: 'The import files are not valid' },
  IMPORT_UNKNOWN: { status: 404, message: 'No such import' },
  SPACE_CYCLE: { status: 409, message: 'The move would put a space inside itself' },
  MOVE_NOT_FOUND: { status: 404, message: 'The space has no move at that time' },
  CORRECTION_NOT_FOUND: { status: 404, message: 'No such correction' },
  STORE_IN_USE: { status: 409, message: 'Another process runs the sinks of this store' },
  CHANNEL_INVALID: { status: 400, message: 'The notification channel is not valid' },
  ALERT_RULE_INVALID: { status: 400, message: 'The alert rule is not valid' },
  MAINTENANCE_INVALID: { status: 400, message: 'The maintenance window is not valid' },
  DEFINED_IN_FILE: { status: 409, message: 'It is defined in the targets file; change it there' },
  STATUS_PAGE_INVALID: { status: 400, message: 'The status page is not valid' },
  STATUS_PAGE_TOO_MANY_TARGETS: { status: 400, message: 'The status page shows more targets than allowed' },
  STATUS_PAGE_NOT_FOUND: { status: 404, message: 'No status page has this slug' },
  STATUS_PAGE_TAKEN: { status: 409, message: 'Another status page has this slug or domain' },
  STATUS_PAGE_RATE_LIMITED: { status: 429, message: 'Too many status page requests from this address' },
  BADGE_RATE_LIMITED: { status: 429, message: 'Too many badge requests from this address' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof catalog;

/** An error with a stable code from the catalog; what the API returns and the CLI prints. */
export class BeaconError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (429 and 503). */
  readonly retryAfter: number | undefined;
  /** The methods a path does answer (405). */
  readonly allow: readonly string[] | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; retryAfter?: number; allow?: readonly string[] },
  ) {
    super(
      message ?? catalog[code].message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'BeaconError';
    this.code = code;
    this.status = catalog[code].status;
    this.retryAfter = options?.retryAfter;
    this.allow = options?.allow;
  }
}

export function isBeaconError(err: unknown): err is BeaconError {
  return err instanceof BeaconError;
}
