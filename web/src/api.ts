import { sleep } from './sleep.ts';

/** One stored message, as `GET /v1/messages` lists it. */
export interface Message {
  readonly id: string;
  readonly receivedAt: string;
  readonly payload: unknown;
}

/** A page of messages, oldest first; `next` continues it, and is null at the end. */
export interface MessagePage {
  readonly items: readonly Message[];
  readonly next: string | null;
}

export interface MessageQuery {
  readonly limit?: number;
  readonly after?: string;
  /** Inclusive lower bound, ISO time. */
  readonly from?: string;
  /** Exclusive upper bound, ISO time. */
  readonly to?: string;
}

/**
 * A failed API call. `code` is the server's stable error code, or `NETWORK_ERROR` when the server
 * could not be reached and `BAD_RESPONSE` when it answered with something that is not the API.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** True when the token is missing, invalid, revoked or lacks the scope: signing in again is the fix. */
  get unauthorized(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** True for the error `fetch` and `sleep` throw when their signal is aborted. */
export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/** 429 and 503 say "try again shortly"; a few waits ride out a burst without bothering the user. */
const RETRIES = 3;
const DEFAULT_RETRY_AFTER_S = 1;
const MAX_RETRY_AFTER_S = 10;

/** The Beacon HTTP API, as one token sees it. */
export class Api {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  /** `GET /v1/messages`: one page of messages in (receivedAt, id) order. */
  async listMessages(query: MessageQuery, signal?: AbortSignal): Promise<MessagePage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const body = await this.#get(`/v1/messages?${params}`, signal);
    if (!isMessagePage(body))
      throw new ApiError(200, 'BAD_RESPONSE', 'The server sent a message list in an unknown shape');
    return body;
  }

  /** `GET` any API path, with the token, retries and error handling every call has. */
  getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    return this.#get(path, signal);
  }

  /**
   * A change (`POST`, `PATCH`, `DELETE`) with a JSON body, answered with JSON or nothing (204, then
   * undefined). Changes are not retried: a 429 or 503 reaches the caller, who may try again.
   */
  async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.#fetch(path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!response.ok) throw await errorOf(response);
    return response.status === 204 ? undefined : this.#json(response);
  }

  /** A `POST` of a text body (YAML) of `type`, answered with JSON; not retried, as `send`. */
  async sendText(path: string, type: string, text: string): Promise<unknown> {
    const response = await this.#fetch(path, {
      method: 'POST',
      body: text,
      headers: { 'content-type': type },
    });
    if (!response.ok) throw await errorOf(response);
    return this.#json(response);
  }

  /** `GET` a path as text (CSV), with the token and the API's errors. */
  async getText(path: string, signal?: AbortSignal): Promise<string> {
    const response = await this.#fetch(path, { signal });
    if (!response.ok) throw await errorOf(response);
    return response.text();
  }

  async #fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(path, {
        ...init,
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', ...init.headers },
        cache: 'no-store',
      });
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ApiError(0, 'NETWORK_ERROR', 'Could not reach the Beacon server', { cause: err });
    }
  }

  async #json(response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ApiError(
        response.status,
        'BAD_RESPONSE',
        'The server answered with something other than JSON',
        {
          cause: err,
        },
      );
    }
  }

  async #get(path: string, signal: AbortSignal | undefined): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.#fetch(path, { signal });
      if (response.ok) return this.#json(response);
      const error = await errorOf(response);
      if ((response.status === 429 || response.status === 503) && attempt < RETRIES) {
        await sleep(retryAfterMs(response), signal);
        continue;
      }
      throw error;
    }
  }
}

/**
 * One API call with a JSON body (or none) and a JSON answer (or none, for 204), as `token` (or with
 * these headers: a shared link's secret). Errors
 * are ApiErrors with the server's code and message; nothing is retried (the caller shows the error).
 */
export async function callJson(
  token: string | Record<string, string>,
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        ...(typeof token === 'string' ? { authorization: `Bearer ${token}` } : token),
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, 'NETWORK_ERROR', 'Could not reach the Beacon server', { cause: err });
  }
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : ((await response.json().catch(() => null)) as unknown);
}

function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get('retry-after'));
  const wait = Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_RETRY_AFTER_S;
  return Math.min(wait, MAX_RETRY_AFTER_S) * 1000;
}

/** Reads the catalog's `{error: {code, message}}` body, falling back to the HTTP status line. */
async function errorOf(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    // Not the API's error shape (a proxy's HTML page, say): the status line is all there is.
    return new ApiError(
      response.status,
      `HTTP_${response.status}`,
      `The server answered ${response.status} ${response.statusText}`.trim(),
    );
  }
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`;
  const message =
    typeof error?.message === 'string' ? error.message : `The server answered ${response.status}`;
  return new ApiError(response.status, code, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessage(value: unknown): value is Message {
  return isRecord(value) && typeof value.id === 'string' && typeof value.receivedAt === 'string';
}

function isMessagePage(value: unknown): value is MessagePage {
  return (
    isRecord(value) &&
    Array.isArray(value.items) &&
    value.items.every(isMessage) &&
    (value.next === null || typeof value.next === 'string')
  );
}
