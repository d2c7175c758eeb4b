import { SEVERITIES, type Notification, type Severity } from './notification.ts';
import type { Message } from './providers/provider.ts';

/** Lines a grouped message lists before saying how many more there are. */
export const MAX_LISTED = 25;

const worst = (items: readonly Notification[]): Severity =>
  SEVERITIES.find((s) => items.some((n) => n.severity === s)) ?? 'info';

/**
 * The message one send carries. One notification goes as it is; several due for the same channel at
 * once become one digest: a title counting them by severity and one line per notification (the first
 * `MAX_LISTED`, then how many more), so a hundred targets failing together is one message, not a
 * flood. `id` identifies the send (services that deduplicate use it).
 */
export function compose(id: string, items: readonly Notification[]): Message {
  const ordered = [...items].sort((a, b) => a.at - b.at);
  const first = ordered[0]!;
  if (ordered.length === 1) {
    return {
      id,
      title: first.title,
      text: first.text,
      severity: first.severity,
      action: first.action,
      dedupKey: first.dedupKey,
      fields: first.fields,
      ...(first.link ? { link: first.link } : {}),
      at: first.at,
      items: ordered,
    };
  }
  const counts = SEVERITIES.map((s) => [s, ordered.filter((n) => n.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s === 'ok' ? 'resolved' : s}`);
  const listed = ordered.slice(0, MAX_LISTED).map((n) => `• ${n.title}`);
  const more = ordered.length - listed.length;
  return {
    id,
    title: `${ordered.length} notifications: ${counts.join(', ')}`,
    text: [...listed, ...(more > 0 ? [`…and ${more} more`] : [])].join('\n'),
    severity: worst(ordered),
    action: 'notify',
    dedupKey: `digest:${id}`,
    fields: {},
    at: ordered.at(-1)!.at,
    items: ordered,
  };
}
