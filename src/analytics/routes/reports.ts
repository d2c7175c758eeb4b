import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { isoTime, isoTimeOrNull } from '../../wire/time.ts';
import type { OutboxMail, Report, ReportFrequency } from '../model.ts';
import { MAX_ATTEMPTS, type ReportWorker } from '../report-worker.ts';
import { nextDue } from '../report-schedule.ts';
import type { AnalyticsStore } from '../store/repositories.ts';
import { SiteParams } from './schemas.ts';
import { ownedSite } from './stats-access.ts';

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;
const MAX_RECIPIENTS = 20;

const ReportBody = Type.Object(
  {
    id: Type.String(),
    frequency: Type.String({ description: '`weekly` (Monday, for the week before) or `monthly` (the 1st).' }),
    recipients: Type.Array(Type.String()),
    nextAt: IsoTime('When the next report is due: its period closes then, in the site’s zone.'),
    createdAt: IsoTime('When the schedule was made.'),
  },
  { $id: 'Report' },
);
const MailBody = Type.Object({
  id: Type.String(),
  period: Type.String(),
  subject: Type.String(),
  recipients: Type.Array(Type.String()),
  status: Type.String({ description: '`pending` (queued or retrying), `sent` or `failed` (gave up).' }),
  attempts: Type.Integer(),
  nextAttemptAt: IsoTime('When it is tried (again), while pending.'),
  sentAt: Type.Union([IsoTime('When the server accepted it.'), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime('When it was queued.'),
});

const reportJson = (r: Report) => ({
  id: r.id,
  frequency: r.frequency,
  recipients: [...r.recipients],
  nextAt: isoTime(r.nextAt),
  createdAt: isoTime(r.createdAt),
});
const mailJson = (m: OutboxMail) => ({
  id: m.id,
  period: m.period,
  subject: m.subject,
  recipients: [...m.recipients],
  status: m.status,
  attempts: m.attempts,
  nextAttemptAt: isoTime(m.nextAttemptAt),
  sentAt: isoTimeOrNull(m.sentAt),
  error: m.error,
  createdAt: isoTime(m.createdAt),
});

/** Checks a schedule's parts (REPORT_INVALID). */
function checkSchedule(frequency: string | undefined, recipients: readonly string[] | undefined): void {
  if (frequency !== undefined && frequency !== 'weekly' && frequency !== 'monthly')
    throw new BeaconError('REPORT_INVALID', 'frequency must be weekly or monthly');
  if (recipients === undefined) return;
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS)
    throw new BeaconError('REPORT_INVALID', `a report goes to 1 to ${MAX_RECIPIENTS} recipients`);
  for (const r of recipients)
    if (r.length > 254 || !EMAIL.test(r))
      throw new BeaconError('REPORT_INVALID', `${JSON.stringify(r)} is not an email address`);
}

/** What the report routes use. */
export interface ReportRouteOptions {
  readonly store: AnalyticsStore;
  readonly worker: ReportWorker;
  /** False when no SMTP server is configured. */
  readonly canSend: boolean;
  readonly scope: RouteContext['scope'];
}

/**
 * `/v1/sites/:id/reports`: scheduled email reports of a site (weekly or monthly summaries), made,
 * changed, deleted and sent at once with an admin token, with each report's delivery history.
 */
export function registerReports(base: FastifyInstance, options: ReportRouteOptions): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store, worker, scope } = options;
  const ItemParams = Type.Object({ id: Type.String(), report: Type.String() });
  const Schedule = {
    frequency: Type.String({ description: '`weekly` or `monthly`.' }),
    recipients: Type.Array(Type.String({ maxLength: 254 }), { minItems: 1, maxItems: MAX_RECIPIENTS }),
  };
  const find = async (tenant: string, site: string, id: string) => {
    const report = await store.analytics.report(tenant, site, id);
    if (!report) throw new BeaconError('REPORT_UNKNOWN', `no report ${id}`);
    return report;
  };

  app.get(
    '/v1/sites/:id/reports',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "List a site's scheduled reports",
        security: [{ bearer: [] }],
        params: SiteParams,
        response: {
          200: Type.Object({ items: Type.Array(ReportBody) }),
          ...errorResponses(401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      return { items: (await store.analytics.reports(site.tenant, site.id)).map(reportJson) };
    },
  );

  app.post(
    '/v1/sites/:id/reports',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Schedule an email report of the site',
        description:
          "Weekly reports go out when Monday begins in the site's zone and cover the week before; monthly ones on the 1st, for the month before. Each is an HTML mail with a plain-text part: visitors, visits, page views, bounce rate and visit duration beside the period before, top pages, top sources and goals. Mail needs `analytics.smtp`; until one is configured nothing is queued.",
        security: [{ bearer: [] }],
        params: SiteParams,
        body: Type.Object(Schedule, { additionalProperties: false }),
        response: { 201: ReportBody, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const { frequency, recipients } = request.body;
      checkSchedule(frequency, recipients);
      const now = Date.now();
      const report: Report = {
        tenant: site.tenant,
        site: site.id,
        id: 'rp_' + randomBytes(9).toString('base64url'),
        frequency: frequency as ReportFrequency,
        recipients,
        nextAt: nextDue(frequency as ReportFrequency, site.timezone, now),
        createdAt: now,
      };
      await store.transaction((tx) => tx.analytics.putReport(report));
      return reply.code(201).send(reportJson(report));
    },
  );

  app.patch(
    '/v1/sites/:id/reports/:report',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Change a scheduled report',
        description: 'A new frequency starts from the next period of that frequency.',
        security: [{ bearer: [] }],
        params: ItemParams,
        body: Type.Object(
          { frequency: Type.Optional(Schedule.frequency), recipients: Type.Optional(Schedule.recipients) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ReportBody, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const old = await find(site.tenant, site.id, request.params.report);
      const { frequency, recipients } = request.body;
      checkSchedule(frequency, recipients);
      const next: Report = {
        ...old,
        frequency: (frequency as ReportFrequency | undefined) ?? old.frequency,
        recipients: recipients ?? old.recipients,
        nextAt:
          frequency !== undefined && frequency !== old.frequency
            ? nextDue(frequency as ReportFrequency, site.timezone, Date.now())
            : old.nextAt,
      };
      await store.transaction((tx) => tx.analytics.putReport(next));
      return reportJson(next);
    },
  );

  app.delete(
    '/v1/sites/:id/reports/:report',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Delete a scheduled report and its delivery history',
        security: [{ bearer: [] }],
        params: ItemParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const gone = await store.transaction((tx) =>
        tx.analytics.deleteReport(site.tenant, site.id, request.params.report),
      );
      if (!gone) throw new BeaconError('REPORT_UNKNOWN', `no report ${request.params.report}`);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/sites/:id/reports/:report/send',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: 'Send a report of the latest closed period now',
        description: `Queues the mail and starts sending it at once; the schedule is not moved. A failed send is retried with backoff, ${MAX_ATTEMPTS} times in all; \`GET …/mails\` shows how it went.`,
        security: [{ bearer: [] }],
        params: ItemParams,
        response: {
          202: Type.Object({ mail: Type.String() }),
          ...errorResponses(401, 403, 404, 409, 429),
        },
      },
    },
    async (request, reply) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const report = await find(site.tenant, site.id, request.params.report);
      if (!options.canSend) throw new BeaconError('MAIL_UNCONFIGURED');
      const mail = await worker.queue(report, site, Date.now(), true);
      // The schedule moved meanwhile (its mail was just queued by another process): try once more.
      const id =
        mail ?? (await worker.queue(await find(site.tenant, site.id, report.id), site, Date.now(), true));
      worker.wake();
      return reply.code(202).send({ mail: id ?? '' });
    },
  );

  app.get(
    '/v1/sites/:id/reports/:report/mails',
    {
      onRequest: scope('admin'),
      schema: {
        tags: ['analytics'],
        summary: "A report's delivery history, newest first",
        security: [{ bearer: [] }],
        params: ItemParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(MailBody) }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const site = await ownedSite(store.analytics, request, request.params.id);
      const report = await find(site.tenant, site.id, request.params.report);
      const mails = await store.analytics.reportMails(
        site.tenant,
        site.id,
        report.id,
        request.query.limit ?? 50,
      );
      return { items: mails.map(mailJson) };
    },
  );
}
