/**
 * What any domain hands the notify engine: one thing worth telling people about, addressed to one of
 * the tenant's channels. The engine knows no domain: `source` and `subject` are opaque to it (the
 * monitor says `monitor` and a target id), and the words are the domain's.
 */

/** How bad it is; services map it to their own levels (PagerDuty severity, Opsgenie priority…). */
export const SEVERITIES = ['critical', 'warning', 'info', 'ok'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What an incident-keyed service (PagerDuty, Opsgenie) should do with it: open or update the alert
 * named by `dedupKey`, close it, or neither (a plain message).
 */
export type Action = 'trigger' | 'resolve' | 'notify';

/** One notification, as a domain composes it. */
export interface Notification {
  /** The domain that raised it (`monitor`). */
  readonly source: string;
  /** What it is about, in the domain's terms (a target id); delivery history is listed by it. */
  readonly subject: string;
  /** What happened, a dotted name (`target.down`, `certificate.expiring`). */
  readonly event: string;
  readonly severity: Severity;
  readonly action: Action;
  /** Ties a trigger to its resolve at incident-keyed services. */
  readonly dedupKey: string;
  /** One line. */
  readonly title: string;
  /** Plain text, a few lines at most. */
  readonly text: string;
  /** Name and value pairs services show as a table (region, cause…). */
  readonly fields: Readonly<Record<string, string>>;
  /** Where to look (the dashboard page), when Beacon knows its public URL. */
  readonly link?: string;
  /** Epoch ms the event happened (the check that moved it). */
  readonly at: number;
}

/** A notification on its way to one channel: what a domain enqueues inside its store transaction. */
export interface Envelope {
  readonly tenant: string;
  readonly channel: string;
  /**
   * Unique per tenant and channel: a second envelope with a key already queued is dropped, so the
   * same change computed twice is still told once.
   */
  readonly key: string;
  readonly notification: Notification;
  /** Wait this long for more to group into one message (0: send as soon as possible). */
  readonly groupWindowMs: number;
}
