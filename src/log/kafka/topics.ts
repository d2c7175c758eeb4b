import type { Admin } from '@platformatic/kafka';
import { STREAMS, type Stream } from '../record.ts';

/** How Beacon names and shapes its topics; from the `kafka` config section. */
export interface TopicLayout {
  /** Prepended to every topic name, e.g. `beacon.` gives `beacon.messages`. */
  readonly prefix: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** The topic that carries one stream's records. */
export const streamTopic = (layout: Pick<TopicLayout, 'prefix'>, stream: Stream): string =>
  `${layout.prefix}${stream}`;

/** Where sinks put records they cannot decode, with the reason in a header. */
export const deadLetterTopic = (layout: Pick<TopicLayout, 'prefix'>): string => `${layout.prefix}dead-letter`;

/**
 * Frames sinks derive (live counts) on their way to every API process's hub. Not a record stream:
 * kept an hour, since a live frame is worth nothing later.
 */
export const liveTopic = (layout: Pick<TopicLayout, 'prefix'>): string => `${layout.prefix}live`;
const LIVE_RETENTION_MS = 3_600_000;

/** Every topic Beacon needs: one per stream, the dead-letter topic and the live topic. */
export const allTopics = (layout: Pick<TopicLayout, 'prefix'>): string[] => [
  ...STREAMS.map((s) => streamTopic(layout, s)),
  deadLetterTopic(layout),
  liveTopic(layout),
];

/** What `setup` did to the topics. */
export interface TopicSetup {
  readonly created: string[];
  readonly existing: string[];
}

/**
 * Creates the topics that do not exist yet, with the configured partitions and replication factor;
 * topics that exist are left as they are (their partition count is never changed, because that would
 * move keys between partitions and break per-entity order).
 */
export async function ensureTopics(admin: Admin, layout: TopicLayout): Promise<TopicSetup> {
  const wanted = allTopics(layout);
  const present = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !present.has(t));
  const created: string[] = [];
  for (const topic of missing) {
    try {
      await admin.createTopics({
        topics: [topic],
        partitions: layout.partitions,
        replicas: layout.replicationFactor,
        // The broker stamps each record when it appends it. Retention and the live tail's start by
        // time then follow the broker's clock, not the producer's (receivedAt is in the value).
        configs: [
          { name: 'message.timestamp.type', value: 'LogAppendTime' },
          ...(topic === liveTopic(layout)
            ? [{ name: 'retention.ms', value: String(LIVE_RETENTION_MS) }]
            : []),
        ],
      });
      created.push(topic);
    } catch (err) {
      // Another `setup` may have created it between our list and create: that is success too.
      if (!(await admin.listTopics()).includes(topic)) throw err;
    }
  }
  // The broker answers a create before its own metadata lists the topic: wait until it does, so
  // whatever runs after setup finds every topic.
  for (let waited = 0; created.length > 0; waited += 50) {
    const listed = new Set(await admin.listTopics());
    if (wanted.every((t) => listed.has(t))) break;
    if (waited > 30_000) throw new Error(`topics not visible 30 s after creation: ${wanted.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { created, existing: wanted.filter((t) => !created.includes(t)) };
}
