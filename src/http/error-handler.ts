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
};

/** Turns any error into the catalog's JSON shape, `{error: {code, message}}`, with the right status. */
export function toBeaconError(err: FastifyError | Error): BeaconError {
  if (err instanceof BeaconError) return err;
  const fastifyError = err as FastifyError;
  if (fastifyError.validation) return new BeaconError('VALIDATION_FAILED', err.message);
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return new BeaconError(mapped, mapped === 'BODY_TOO_LARGE' ? undefined : err.message);
  return new BeaconError('INTERNAL', catalog.INTERNAL.message, { cause: err });
}

/** Sends a catalog error in the catalog's shape, counted in `beacon_rejected_total`. */
export function sendError(reply: FastifyReply, error: BeaconError, metrics: Metrics): FastifyReply {
  metrics.rejected.inc({ code: error.code });
  if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
}

export function makeErrorHandler(metrics: Metrics) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const error = toBeaconError(err);
    if (error.code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
    return sendError(reply, error, metrics);
  };
}
