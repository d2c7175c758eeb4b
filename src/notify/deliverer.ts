import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { resolveChannel, type ResolvedChannel } from './channels.ts';
import { compose } from './message.ts';
import type { NotifyMetrics } from './metrics.ts';
import type { Outcome, SendContext } from './providers/provider.ts';
import type { ChannelRepository, OutboxRepository, OutboxRow, Settlement } from './store/repositories.ts';

export interface DelivererOptions {
  readonly store: { readonly channels: ChannelRepository; readonly outbox: OutboxRepository };
  /** How often to look for due rows when nothing wakes the worker. */
  readonly pollMs: number;
  /** How long a claimed row is this worker's; past it another worker may take it over. */
  readonly leaseMs: number;
  readonly batchSize: number;
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Per request to a service. */
  readonly timeoutMs: number;
  /** Sent and failed rows are kept this long as history. */
  readonly historyDays: number;
  /** Operator overrides of hosted services' origins, by kind. */
  readonly serviceUrls: Readonly<Record<string, string>>;
  readonly metrics: NotifyMetrics;
  readonly logger: Logger;
}

/** A service's Retry-After is honoured up to an hour; beyond that the usual backoff decides. */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** Channels sent to at once by one worker. */
const PARALLEL_CHANNELS = 8;

/** The context every send gets: the timeout and the service origins. */
export function sendContext(timeoutMs: number, serviceUrls: Readonly<Record<string, string>>): SendContext {
  return { timeoutMs, origin: (kind, standard) => (serviceUrls[kind] ?? standard).replace(/\/+$/, '') };
}

/** A send's id: the same rows make the same id, so a service that deduplicates by it sees a repeat. */
const messageId = (rows: readonly OutboxRow[]) =>
  `beacon-${createHash('sha256')
    .update(rows.map((r) => `${r.tenant}/${r.channel}/${r.id}`).join(','))
    .digest('base64url')
    .slice(0, 22)}`;

/**
 * Delivers the outbox. Each round claims due rows with a lease in the store (never in memory), so any
 * number of api processes may run one: a row is sent by whichever claims it, and by another only if
 * the first dies holding it (its lease then runs out). Rows of one channel claimed together go as one
 * message where the service allows it. A failure that may pass is retried with backoff (or after the
 * service's Retry-After, which also pauses the channel); one that cannot, or the last attempt, marks
 * the row failed. Every outcome stays on the row, as the delivery history.
 *
 * Exactly once, as far as the outside world allows: a row leaves `pending` only in the statement that
 * records its answer. A worker killed between the service's answer and that statement leaves the row
 * to be sent again when its lease ends; Matrix (transaction id), PagerDuty (dedup key) and Opsgenie
 * (alias) fold such a repeat into the first, other services would show it twice.
 */
export class Deliverer {
  readonly #o: DelivererOptions;
  readonly #owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #context: SendContext;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lastPrune = 0;

  constructor(options: DelivererOptions) {
    this.#o = options;
    this.#context = sendContext(options.timeoutMs, options.serviceUrls);
  }

  start(): void {
    this.wake();
  }

  /** Looks for due rows now (a transaction just queued some) rather than at the next poll. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#rounds()
      .catch((err: unknown) => this.#o.logger.error({ err }, 'delivering notifications failed; retrying'))
      .finally(() => {
        this.#running = undefined;
        if (this.#stopped) return;
        if (this.#again) {
          this.#again = false;
          this.wake();
        } else {
          this.#timer = setTimeout(() => this.wake(), this.#o.pollMs);
          this.#timer.unref();
        }
      });
  }

  async #rounds(): Promise<void> {
    const { outbox } = this.#o.store;
    for (;;) {
      const now = Date.now();
      const rows = await outbox.claim({
        now,
        owner: this.#owner,
        leaseMs: this.#o.leaseMs,
        limit: this.#o.batchSize,
      });
      if (rows.length === 0) break;
      await this.#deliver(rows);
      if (this.#stopped || rows.length < this.#o.batchSize) break;
    }
    const now = Date.now();
    const backlog = await outbox.backlog(now);
    this.#o.metrics.backlog.set(backlog.pending);
    if (now - this.#lastPrune > 3_600_000) {
      this.#lastPrune = now;
      const pruned = await outbox.prune(now - this.#o.historyDays * 86_400_000);
      if (pruned > 0) this.#o.logger.info({ pruned }, 'old delivery history pruned');
    }
  }

  async #deliver(rows: readonly OutboxRow[]): Promise<void> {
    const byChannel = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const id = `${row.tenant}\u0000${row.channel}`;
      byChannel.set(id, [...(byChannel.get(id) ?? []), row]);
    }
    const groups = [...byChannel.values()];
    for (let i = 0; i < groups.length; i += PARALLEL_CHANNELS) {
      await Promise.all(groups.slice(i, i + PARALLEL_CHANNELS).map((group) => this.#deliverChannel(group)));
    }
  }

  async #deliverChannel(rows: readonly OutboxRow[]): Promise<void> {
    const { channels, outbox } = this.#o.store;
    const { tenant, channel: id } = rows[0]!;
    const channel = await channels.get(tenant, id);
    let resolved: ResolvedChannel;
    try {
      if (!channel) throw new Error(`channel ${id} no longer exists`);
      resolved = resolveChannel(channel);
    } catch (err) {
      const now = Date.now();
      const answer = (err as Error).message;
      await outbox.settle(
        this.#owner,
        rows.map((r) => ({
          id: r.id,
          state: 'failed',
          at: now,
          dueAt: r.dueAt,
          status: null,
          answer,
          batchSize: 1,
        })),
      );
      this.#o.metrics.attempts.inc({ kind: channel?.kind ?? 'unknown', outcome: 'failed' }, rows.length);
      return;
    }
    const batches = resolved.groups ? [rows] : rows.map((r) => [r]);
    const settlements: Settlement[] = [];
    for (const batch of batches) {
      const message = compose(
        messageId(batch),
        batch.map((r) => r.notification),
      );
      const outcome = await resolved.send(message, this.#context);
      this.#o.metrics.messages.inc({ kind: resolved.kind });
      settlements.push(...this.#settle(batch, outcome, resolved.kind));
      if (!outcome.ok && outcome.retryAfterMs !== undefined) {
        await outbox.pause(tenant, id, Date.now() + Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS));
      }
    }
    await outbox.settle(this.#owner, settlements);
  }

  #settle(batch: readonly OutboxRow[], outcome: Outcome, kind: string): Settlement[] {
    const now = Date.now();
    const { metrics, logger } = this.#o;
    return batch.map((row) => {
      const base = {
        id: row.id,
        at: now,
        status: outcome.status,
        answer: outcome.answer,
        batchSize: batch.length,
      };
      if (outcome.ok) {
        metrics.attempts.inc({ kind, outcome: 'sent' });
        metrics.latency.observe((now - row.createdAt) / 1000);
        return { ...base, state: 'sent', dueAt: row.dueAt };
      }
      if (!outcome.retry || row.attempts >= this.#o.maxAttempts) {
        metrics.attempts.inc({ kind, outcome: 'failed' });
        // The channel id and kind only: the answer is scrubbed, the URL is never logged.
        logger.warn(
          {
            tenant: row.tenant,
            channel: row.channel,
            kind,
            status: outcome.status,
            answer: outcome.answer,
            attempts: row.attempts,
          },
          'notification given up',
        );
        return { ...base, state: 'failed', dueAt: row.dueAt };
      }
      metrics.attempts.inc({ kind, outcome: 'retried' });
      const backoff = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (row.attempts - 1));
      const wait = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
      return { ...base, state: 'pending', dueAt: now + wait };
    });
  }

  /** Stops claiming and waits for the round in hand to settle what it sent. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
