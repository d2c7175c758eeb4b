/**
 * Scheduled reports: each API process looks for reports whose period has closed, builds the latest
 * period's mail and queues it in the outbox in the same transaction that moves the report on (so of
 * several processes one queues it), then sends pending mails under a lease, retrying with backoff.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Report, Site } from './model.ts';
import type { QueryOptions } from './query.ts';
import { buildReport } from './report-content.ts';
import type { MailSender } from './report-mail.ts';
import { nextDue, periodEndingAt } from './report-schedule.ts';
import type { AnalyticsStore } from './store/repositories.ts';
import { fromLocal } from './time-zone.ts';
import { WorkerLoop } from './worker-loop.ts';

/** A claimed mail is another process's to retry only after this long. */
const LEASE_MS = 120_000;
/** Sends tried before a mail is marked failed. */
export const MAX_ATTEMPTS = 8;
/** The first retry's delay, doubling per attempt up to an hour. */
const BACKOFF_MS = 60_000;

/** What the report worker needs. */
export interface ReportWorkerOptions {
  readonly store: AnalyticsStore;
  /** The sender, or undefined when no SMTP server is configured (reports then wait, unqueued). */
  readonly sender: MailSender | undefined;
  readonly query: QueryOptions;
  readonly pollMs: number;
  /** Beacon's public URL, for the link to the dashboard. */
  readonly publicUrl: string | undefined;
  readonly logger: Logger;
}

/** The instant the latest period of a report's frequency closed, at or before `now`. */
function latestDue(report: Report, site: Site, now: number): number {
  const next = nextDue(report.frequency, site.timezone, now);
  return fromLocal(periodEndingAt(report.frequency, site.timezone, next).from, site.timezone);
}

/** Queues and sends report mails; `wake()` after a change here makes it look at once. */
export class ReportWorker {
  readonly #o: ReportWorkerOptions;
  readonly #loop: WorkerLoop;

  constructor(options: ReportWorkerOptions) {
    this.#o = options;
    this.#loop = new WorkerLoop({
      tick: () => this.tick(Date.now()),
      pollMs: options.pollMs,
      logger: options.logger,
      what: 'sending reports',
    });
  }

  start(): void {
    this.#loop.start();
  }

  wake(): void {
    this.#loop.wake();
  }

  async close(): Promise<void> {
    await this.#loop.close();
    this.#o.sender?.close();
  }

  /** Queues the mail of a report for its latest closed period (`period` names it apart when sent by hand). */
  async queue(report: Report, site: Site, now: number, manual: boolean): Promise<string | undefined> {
    const due = latestDue(report, site, now);
    const period = periodEndingAt(report.frequency, site.timezone, due);
    const body = await buildReport(this.#o.store.analytics, site, period, {
      ...this.#o.query,
      now,
      dashboardUrl: this.#o.publicUrl && `${this.#o.publicUrl}/analytics?site=${encodeURIComponent(site.id)}`,
    });
    const id = 'ml_' + randomBytes(9).toString('base64url');
    const mail = {
      id,
      tenant: site.tenant,
      site: site.id,
      report: report.id,
      period: manual ? `${period.label} (sent ${new Date(now).toISOString()})` : period.label,
      recipients: report.recipients,
      ...body,
      status: 'pending' as const,
      attempts: 0,
      nextAttemptAt: now,
      sentAt: null,
      error: null,
      createdAt: now,
    };
    // A scheduled mail moves the report on to its next period; one sent by hand leaves it where it is.
    const next = manual ? report.nextAt : nextDue(report.frequency, site.timezone, now);
    const queued = await this.#o.store.transaction((tx) =>
      tx.analytics.queueReportMail(report, report.nextAt, next, mail),
    );
    return queued ? id : undefined;
  }

  /** One pass: queue what is due, then send what is pending. */
  async tick(now: number): Promise<void> {
    const { store, sender } = this.#o;
    if (!sender) return;
    for (const report of await store.analytics.dueReports(now, 50)) {
      const site = await store.analytics.site(report.site);
      if (!site || site.tenant !== report.tenant) continue;
      await this.queue(report, site, now, false);
    }
    const mails = await store.transaction((tx) => tx.analytics.claimMails(now, now + LEASE_MS, 20));
    for (const mail of mails) {
      try {
        await sender.send({ to: mail.recipients, subject: mail.subject, html: mail.html, text: mail.text });
        await store.transaction((tx) =>
          tx.analytics.settleMail(mail.id, {
            status: 'sent',
            at: Date.now(),
            error: null,
            nextAttemptAt: now,
          }),
        );
      } catch (err) {
        const attempts = mail.attempts + 1;
        const error = (err as Error).message.slice(0, 500);
        this.#o.logger.warn({ err, mail: mail.id, attempts }, 'report mail not sent');
        await store.transaction((tx) =>
          tx.analytics.settleMail(mail.id, {
            status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending',
            at: Date.now(),
            error,
            nextAttemptAt: Date.now() + Math.min(3_600_000, BACKOFF_MS * 2 ** (attempts - 1)),
          }),
        );
      }
    }
  }
}
