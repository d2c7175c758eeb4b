import { escapeHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import type { StatusView } from './view.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The page's incident updates and its incidents of the last 90 days as an Atom feed (RFC 4287),
 * newest first. `origin` and `base` make the absolute links a feed reader needs.
 */
export function statusAtom(view: StatusView, origin: string, base: string): string {
  const { page } = view;
  const pageUrl = `${origin}${base}`;
  // The page's id and birth time name it for good, whatever its slug becomes; the tenant stays private.
  const idBase = `tag:beacon,2026:status/${page.id}/${page.createdAt}`;
  const incidents = view.groups
    .flatMap((g) => g.targets.flatMap((t) => t.days.flatMap((d) => d.incidents)))
    .filter(
      (i, n, all) =>
        all.findIndex(
          (o) => o.target === i.target && o.region === i.region && o.startedAt === i.startedAt,
        ) === n,
    );
  const entries = [
    ...view.updates.map((u) => ({
      at: u.at,
      xml: `<entry><id>${escapeHtml(`${idBase}/update/${u.id}`)}</id><title>${escapeHtml(`[${u.status}] ${u.title}`)}</title>
<updated>${iso(Math.max(u.at, u.updatedAt))}</updated><published>${iso(u.at)}</published>
<link href="${escapeHtml(`${pageUrl}#update-${u.id}`)}"/><category term="${u.status}"/>
<content type="html">${escapeHtml(renderMarkdown(u.body))}</content></entry>`,
    })),
    ...incidents.map((i) => ({
      at: i.startedAt,
      xml: `<entry><id>${escapeHtml(`${idBase}/incident/${i.target}/${i.region}/${i.startedAt}`)}</id>
<title>${escapeHtml(`${i.name}: ${i.endedAt === null ? 'down' : 'was down'} (${i.cause})`)}</title>
<updated>${iso(i.endedAt ?? i.startedAt)}</updated><published>${iso(i.startedAt)}</published>
<link href="${escapeHtml(pageUrl)}"/><category term="incident"/>
<content type="text">${escapeHtml(`${i.cause} in ${i.region} from ${iso(i.startedAt)}${i.endedAt === null ? ', ongoing' : ` to ${iso(i.endedAt)}`}`)}</content></entry>`,
    })),
  ].sort((a, b) => b.at - a.at);
  const updated = Math.max(
    page.updatedAt,
    ...view.updates.map((u) => u.updatedAt),
    ...incidents.map((i) => i.endedAt ?? i.startedAt),
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>${escapeHtml(idBase)}</id><title>${escapeHtml(page.title)}</title><updated>${iso(updated)}</updated>
<link rel="alternate" type="text/html" href="${escapeHtml(pageUrl)}"/><link rel="self" href="${escapeHtml(`${pageUrl}/feed.atom`)}"/>
<author><name>${escapeHtml(page.title)}</name></author>
${entries.map((x) => x.xml).join('\n')}
</feed>
`;
}
