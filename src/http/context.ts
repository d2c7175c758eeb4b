import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Ingest } from '../ingest/ingest.ts';
import type { DerivedFrame, Log } from '../log/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/store.ts';
import type { Authenticate, Scope } from './principal.ts';

/** The live hub as routes other than the stream's use it: pushing frames derived from a change. */
export interface LiveFrames {
  /** Subscribers; with none, frames need not be computed. */
  readonly size: number;
  publishDerived(frames: readonly DerivedFrame[]): void;
}

/**
 * What every domain's routes may use; built once per API process. `S` is the store as a domain's
 * routes see it: the engine with that domain's repositories (the whole store is all of them).
 */
export interface RouteContext<S extends Store = Store> {
  readonly config: Readonly<Config>;
  readonly log: Log;
  readonly hub: LiveFrames;
  readonly store: S;
  readonly ingest: Ingest;
  readonly metrics: Metrics;
  readonly authenticator: Authenticate;
  readonly logger: Logger;
  /** onRequest hook requiring a scope (and applying the token's rate limit). */
  readonly scope: (scope: Scope) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** False once shutdown has begun; /readyz reports it. */
  readonly accepting: () => boolean;
  /** Tells an in-process prober that targets changed, so it re-reads them at once. */
  readonly targetsChanged?: () => void;
}

/** A domain's routes: `roles/` hands every domain's plugin to `buildApp`. */
export type RoutePlugin<S extends Store> = (
  app: FastifyInstance,
  ctx: RouteContext<S>,
) => void | Promise<void>;
