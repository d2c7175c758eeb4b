/**
 * The content of a scheduled report: a site's figures for one period beside the period before, its
 * top pages and sources, and its goals, as an HTML mail with a plain-text part saying the same.
 */
import type { Site } from './model.ts';
import { runQuery, type QueryOptions, type StatsResult } from './query.ts';
import type { AnalyticsReader } from './store/repositories.ts';
import { DAY, formatLocal } from './time-zone.ts';

/** A report mail's subject and its two bodies. */
export interface ReportBody {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

const TOTALS = ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'] as const;
const LABELS: Record<(typeof TOTALS)[number], string> = {
  visitors: 'Visitors',
  visits: 'Visits',
  pageviews: 'Page views',
  bounce_rate: 'Bounce rate',
  visit_duration: 'Visit duration',
};

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function show(metric: string, value: number): string {
  if (metric === 'bounce_rate' || metric === 'conversion_rate') return `${value}%`;
  if (metric === 'visit_duration')
    return `${Math.floor(value / 60)}m ${String(value % 60).padStart(2, '0')}s`;
  return value.toLocaleString('en-US');
}

function change(now: number, before: number): string {
  if (before === 0) return now === 0 ? '–' : 'new';
  const pct = Math.round(((now - before) * 100) / before);
  return `${pct > 0 ? '+' : ''}${pct}%`;
}

/** Builds the report of `site` for local [from, to), comparing with the period of the same length before. */
export async function buildReport(
  reader: AnalyticsReader,
  site: Site,
  period: { from: number; to: number; label: string },
  options: QueryOptions & { now: number; dashboardUrl: string | undefined },
): Promise<ReportBody> {
  const range = (from: number, to: number) => [formatLocal(from, false), formatLocal(to - DAY, false)];
  const dateRange = range(period.from, period.to);
  const before = range(period.from - (period.to - period.from), period.from);
  const ask = (q: Parameters<typeof runQuery>[2]): Promise<StatsResult> =>
    runQuery(reader, site, q, options.now, options);
  const goals = await reader.definitions(site.tenant, site.id, 'goal');
  const [now, then, pages, sources, conversions] = await Promise.all([
    ask({ metrics: [...TOTALS], dateRange }),
    ask({ metrics: [...TOTALS], dateRange: before }),
    ask({ metrics: ['visitors', 'pageviews'], dimensions: ['event:page'], dateRange, limit: 5 }),
    ask({ metrics: ['visitors', 'visits'], dimensions: ['visit:source'], dateRange, limit: 5 }),
    goals.length > 0
      ? ask({ metrics: ['conversions', 'conversion_rate'], dimensions: ['event:goal'], dateRange, limit: 5 })
      : undefined,
  ]);
  const totals = TOTALS.map((m, i) => {
    const value = now.results[0]?.metrics[i] ?? 0;
    return {
      label: LABELS[m],
      value: show(m, value),
      change: change(value, then.results[0]?.metrics[i] ?? 0),
    };
  });
  const lists = [
    {
      title: 'Top pages',
      head: ['Page', 'Visitors'],
      rows: pages.results.map((r) => [r.dimensions[0]!, show('', r.metrics[0]!)]),
    },
    {
      title: 'Top sources',
      head: ['Source', 'Visitors'],
      rows: sources.results.map((r) => [r.dimensions[0]!, show('', r.metrics[0]!)]),
    },
    ...(conversions
      ? [
          {
            title: 'Goals',
            head: ['Goal', 'Conversions', 'Rate'],
            rows: conversions.results.map((r) => [
              r.dimensions[0]!,
              show('', r.metrics[0]!),
              show('conversion_rate', r.metrics[1]!),
            ]),
          },
        ]
      : []),
  ];
  const [from, to] = period.label.split('/');
  const subject = `${site.domain}: ${totals[0]!.value} visitors, ${from} to ${to}`;

  const text = [
    `${site.domain}, ${from} to ${to} (${site.timezone}), compared with the period before`,
    '',
    ...totals.map((t) => `${t.label}: ${t.value} (${t.change})`),
    ...lists.flatMap((l) => [
      '',
      `${l.title}:`,
      ...(l.rows.length === 0 ? ['  nothing yet'] : l.rows.map((r) => `  ${r.join('  ')}`)),
    ]),
    ...(options.dashboardUrl ? ['', `Dashboard: ${options.dashboardUrl}`] : []),
    '',
    'You get this mail because a Beacon report is scheduled for this site.',
  ].join('\n');

  const cell = 'padding:4px 12px 4px 0;border-bottom:1px solid #e5e7eb;text-align:left';
  const table = (l: (typeof lists)[number]) =>
    `<h2 style="font-size:15px;margin:20px 0 6px">${escape(l.title)}</h2>` +
    (l.rows.length === 0
      ? '<p style="color:#6b7280">Nothing yet</p>'
      : `<table style="border-collapse:collapse;font-size:14px"><tr>${l.head.map((h) => `<th style="${cell}">${escape(h)}</th>`).join('')}</tr>` +
        l.rows
          .map((r) => `<tr>${r.map((c) => `<td style="${cell}">${escape(c)}</td>`).join('')}</tr>`)
          .join('') +
        '</table>');
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111827;max-width:640px">
<h1 style="font-size:18px">${escape(site.domain)}</h1>
<p style="color:#6b7280">${escape(from!)} to ${escape(to!)} (${escape(site.timezone)}), compared with the period before</p>
<table style="border-collapse:collapse;font-size:14px">${totals
    .map(
      (t) =>
        `<tr><td style="${cell}">${escape(t.label)}</td><td style="${cell};font-weight:600">${escape(t.value)}</td><td style="${cell};color:#6b7280">${escape(t.change)}</td></tr>`,
    )
    .join('')}</table>
${lists.map(table).join('\n')}
${options.dashboardUrl ? `<p><a href="${escape(options.dashboardUrl)}">Open the dashboard</a></p>` : ''}
<p style="color:#6b7280;font-size:12px">You get this mail because a Beacon report is scheduled for this site.</p>
</body></html>`;
  return { subject, html, text };
}
