import { renderMarkdown } from './markdown.ts';
import type { DayBar, PublicIncident, PublicState, PublicTarget, StatusView } from './view.ts';

/** Text for HTML content and attribute values. */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
const e = escapeHtml;

const STATE_WORDS: Record<PublicState, string> = {
  up: 'Operational',
  degraded: 'Degraded performance',
  maintenance: 'Under maintenance',
  down: 'Outage',
  unknown: 'No data yet',
  paused: 'Paused',
};
const HEADLINE: Record<PublicState, string> = {
  up: 'All systems operational',
  degraded: 'Some systems are slow',
  maintenance: 'Maintenance in progress',
  down: 'Some systems are down',
  unknown: 'No data yet',
  paused: 'Monitoring is paused',
};
const UPDATE_WORDS = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
} as const;

/** `2026-12-04 10:32 UTC` */
const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** `2026-12-04`, remembered: a page names the same 90 days thousands of times. */
const days = new Map<number, string>();
function day(ms: number): string {
  let text = days.get(ms);
  if (text === undefined) {
    if (days.size > 1000) days.clear();
    days.set(ms, (text = new Date(ms).toISOString().slice(0, 10)));
  }
  return text;
}

/** A day's class: how green its bar is. */
function dayClass(d: DayBar): string {
  if (d.uptime === null) return d.incidents.length > 0 ? 'd-bad' : 'd-none';
  if (d.uptime >= 99.9 && d.incidents.length === 0) return 'd-ok';
  if (d.uptime >= 99) return 'd-warn';
  return 'd-bad';
}

const incidentLine = (i: PublicIncident) =>
  `${i.cause} in ${i.region} from ${utc(i.startedAt)}${i.endedAt === null ? ', ongoing' : ` to ${utc(i.endedAt)}`}`;

/** The text a day's bar shows on hover (its title, which needs no script). */
function dayTitle(d: DayBar): string {
  const head = `${day(d.start)}: ${d.uptime === null ? 'no checks' : `${d.uptime}% up (${d.checks} checks)`}`;
  if (d.incidents.length === 0) return `${head}, no incidents`;
  return [
    `${head}, ${d.incidents.length} incident${d.incidents.length === 1 ? '' : 's'}:`,
    ...d.incidents.map(incidentLine),
  ].join('\n');
}

function targetHtml(t: PublicTarget): string {
  const bars = t.days.map((d) => `<li class="${dayClass(d)}" title="${e(dayTitle(d))}"></li>`).join('');
  return `<section class="target s-${t.state}" data-target="${e(t.id)}">
<div class="row"><h3>${e(t.name)}</h3><span class="state">${STATE_WORDS[t.state]}</span></div>
${t.address === null ? '' : `<p class="address">${e(t.address)}</p>`}
<ol class="bars" aria-label="Uptime of the last ${t.days.length} days, oldest first">${bars}</ol>
<div class="row small"><span>${t.days.length} days ago</span><span>${t.uptime === null ? 'no checks' : `${t.uptime}% uptime`}${t.latencyMs === null ? '' : ` · ${t.latencyMs} ms average today`}</span><span>today</span></div>
</section>`;
}

const CSS = `
:root{--bg:#f7f8fa;--fg:#17191c;--muted:#5f6670;--card:#fff;--line:#e2e5ea;--ok:#2f9e5b;--warn:#d9a21b;--bad:#d64545;--none:#c9ced6;--maint:#4a7bd0}
.dark{--bg:#121417;--fg:#e8eaed;--muted:#9aa1ab;--card:#1b1e22;--line:#2c3036;--none:#3a3f47}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
main{max-width:880px;margin:0 auto;padding:32px 16px}h1{margin:0 0 4px;font-size:28px}h2{font-size:18px;margin:28px 0 10px}h3{margin:0;font-size:15px}
.lead{color:var(--muted);margin:0 0 20px}.banner{padding:14px 18px;border-radius:8px;color:#fff;font-weight:600;margin-bottom:16px}
.b-up{background:var(--ok)}.b-degraded{background:var(--warn)}.b-down{background:var(--bad)}.b-maintenance{background:var(--maint)}.b-unknown,.b-paused{background:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin-bottom:12px}
.group>h2{display:flex;justify-content:space-between}.target{padding:12px 0;border-top:1px solid var(--line)}.target:first-of-type{border-top:0}
.row{display:flex;justify-content:space-between;gap:12px;align-items:baseline}.small{font-size:12px;color:var(--muted)}.address{margin:2px 0;color:var(--muted);font-size:13px;word-break:break-all}
.state{font-size:13px;font-weight:600}.s-up .state{color:var(--ok)}.s-degraded .state{color:var(--warn)}.s-down .state{color:var(--bad)}.s-maintenance .state{color:var(--maint)}.s-unknown .state,.s-paused .state{color:var(--muted)}
.bars{display:flex;gap:2px;list-style:none;margin:8px 0 4px;padding:0;height:34px}.bars li{flex:1;border-radius:2px;position:relative;min-width:2px}
.d-ok{background:var(--ok)}.d-warn{background:var(--warn)}.d-bad{background:var(--bad)}.d-none{background:var(--none)}
.bars li:hover{outline:2px solid var(--fg);outline-offset:1px}
.update{border-top:1px solid var(--line);padding:10px 0}.update:first-of-type{border-top:0}.update .meta{color:var(--muted);font-size:13px}
.tag{display:inline-block;font-size:12px;font-weight:600;border-radius:4px;padding:0 6px;margin-right:6px;color:#fff;background:var(--muted)}
.t-investigating{background:var(--bad)}.t-identified{background:var(--warn)}.t-monitoring{background:var(--maint)}.t-resolved{background:var(--ok)}
footer{color:var(--muted);font-size:13px;margin-top:28px}a{color:var(--maint)}
`;

/**
 * A public status page as one HTML document that reads without JavaScript: its state, each group
 * and target with 90 day bars (a bar's title, shown on hover, tells its uptime and incidents), open
 * incidents, maintenance and the operator's updates. `base` is the page's
 * own path, which its JSON and feed links extend.
 */
export function statusHtml(view: StatusView, base: string): string {
  const { page } = view;
  const groups = view.groups
    .map(
      (
        g,
      ) => `<section class="card group s-${g.state}"><h2>${e(g.name)}<span class="state">${STATE_WORDS[g.state]}</span></h2>
${g.targets.length === 0 ? '<p class="small">No targets.</p>' : g.targets.map(targetHtml).join('\n')}</section>`,
    )
    .join('\n');
  const omitted =
    view.omitted > 0
      ? `<p class="small">${view.omitted} more target${view.omitted === 1 ? '' : 's'} not shown: a page shows at most ${view.groups.reduce((n, g) => n + g.targets.length, 0)}.</p>`
      : '';
  const incidents =
    view.incidents.length === 0
      ? ''
      : `<h2>Current incidents</h2><section class="card">${view.incidents
          .map((i) => `<p class="incident"><strong>${e(i.name)}</strong>: ${e(incidentLine(i))}</p>`)
          .join('')}</section>`;
  const maintenance =
    view.maintenance.length === 0
      ? ''
      : `<h2>Maintenance</h2><section class="card">${view.maintenance
          .map(
            (w) =>
              `<p class="window"><strong>${e(w.title)}</strong>: ${w.active ? 'in progress, until' : `${utc(w.start)} to`} ${utc(w.end)}</p>`,
          )
          .join('')}</section>`;
  const updates =
    view.updates.length === 0
      ? ''
      : `<h2>Incident updates</h2><section class="card">${view.updates
          .map(
            (
              u,
            ) => `<article class="update" id="update-${e(u.id)}"><h3><span class="tag t-${u.status}">${UPDATE_WORDS[u.status]}</span>${e(u.title)}</h3>
<p class="meta"><time datetime="${new Date(u.at).toISOString()}">${utc(u.at)}</time></p>${renderMarkdown(u.body)}</article>`,
          )
          .join('\n')}</section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(page.title)}</title>
<link rel="alternate" type="application/atom+xml" title="${e(page.title)} updates" href="${e(base)}/feed.atom">
<link rel="alternate" type="application/json" href="${e(base)}.json">
<style>${CSS}</style></head>
<body class="${page.theme}"><main>
<h1>${e(page.title)}</h1>${page.description === '' ? '' : `<p class="lead">${e(page.description)}</p>`}
<div class="banner b-${view.state}" id="overall">${HEADLINE[view.state]}</div>
${incidents}${maintenance}${groups}${omitted}${updates}
<footer>As of <time datetime="${new Date(view.at).toISOString()}">${utc(view.at)}</time> · <a href="${e(base)}/feed.atom">Atom feed</a> · <a href="${e(base)}.json">JSON</a></footer>
</main></body></html>
`;
}
