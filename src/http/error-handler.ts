import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BeaconError, catalog, type ErrorCode } from '../errors/catalog.ts';
import type { Metrics } from '../observability/metrics.ts';

/** Fastify's own error codes, mapped onto the catalog so clients only ever see Beacon codes. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  // A body sent with no content type (any method, QUERY included).
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_ROUTE_MISSING_CONTENT: 'VALIDATION_FAILED',
  FST_ERR_NOT_FOUND: 'ROUTE_NOT_FOUND',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_INVALID_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
};

/**
 * Client errors from elsewhere (a plugin, the static file server) by their status: each has its
 * catalog code, so no 4xx a client can cause answers outside the catalog or as a 500.
 */
const CLIENT_STATUSES: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'BODY_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  431: 'HEADERS_TOO_LARGE',
};

/** Turns any error into the catalog's JSON shape, `{error: {code, message}}`, with the right status. */
export function toBeaconError(err: FastifyError | Error): BeaconError {
  if (err instanceof BeaconError) return err;
  const fastifyError = err as FastifyError & { status?: unknown };
  if (fastifyError.validation) return new BeaconError('VALIDATION_FAILED', err.message);
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return new BeaconError(mapped, mapped === 'BODY_TOO_LARGE' ? undefined : err.message);
  const status = fastifyError.statusCode ?? fastifyError.status;
  const byStatus = typeof status === 'number' ? CLIENT_STATUSES[status] : undefined;
  if (byStatus) return new BeaconError(byStatus, err.message);
  return new BeaconError('INTERNAL', catalog.INTERNAL.message, { cause: err });
}

/** The catalog's JSON body for an error, as text (for answers written on the raw socket). */
export function errorBody(error: BeaconError): string {
  return JSON.stringify({ error: { code: error.code, message: error.message } });
}

/**
 * Fastify's `clientErrorHandler`: errors Node's HTTP parser meets before any route runs (a body that
 * arrives too slowly, headers too large, a malformed request line) are answered in the catalog's
 * shape too, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new BeaconError('REQUEST_TIMEOUT', 'the request did not arrive within http.requestTimeoutMs')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new BeaconError('HEADERS_TOO_LARGE')
        : new BeaconError('BAD_REQUEST', 'the request could not be parsed');
  const body = errorBody(error);
  // A response already under way cannot be replaced: just close.
  if (
    socket.writable &&
    !(socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
  ) {
    socket.write(
      `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Sends a catalog error in the catalog's shape, counted in `beacon_rejected_total`. */
export function sendError(reply: FastifyReply, error: BeaconError, metrics: Metrics): FastifyReply {
  metrics.rejected.inc({ code: error.code });
  if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
  if (error.allow !== undefined) void reply.header('allow', error.allow.join(', '));
  return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
}

/**
 * The app's error handler. `instead` may answer for the request otherwise (a request no route
 * matched gets its 404 or 405, whatever failed first).
 */
export function makeErrorHandler(
  metrics: Metrics,
  instead?: (request: FastifyRequest) => BeaconError | undefined,
) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const error = instead?.(request) ?? toBeaconError(err);
    if (error.code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
    return sendError(reply, error, metrics);
  };
}
