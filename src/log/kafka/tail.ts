import type { Consumer as KafkaConsumer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { DerivedFrame } from '../log.ts';
import { decodeRecord, STREAMS, type LogRecord } from '../record.ts';
import { fetchPartitions } from './fetch.ts';
import { Pause } from './pause.ts';

export interface KafkaTailOptions {
  readonly client: KafkaConsumer;
  readonly topics: readonly string[];
  /** Epoch ms: records produced from this time on are published (unless `from` is given). */
  readonly since: number;
  /** Start positions, keyed `topic:partition`; when given, `since` is not looked up. */
  readonly from?: ReadonlyMap<string, number> | undefined;
  readonly publish: (records: readonly LogRecord[]) => void;
  /** Among `topics`, the one that carries derived frames (JSON), which go to `publishDerived`. */
  readonly derivedTopic: string;
  readonly publishDerived: (frames: readonly DerivedFrame[]) => void;
  readonly logger: Logger;
}

const FETCH_WAIT_MS = 500;
const FETCH_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Reads every partition of every stream topic from `since` on and publishes what it reads, for the
 * live hub. It joins no group, so every API process sees every record. Records that do not decode
 * are skipped here (the sinks dead-letter them).
 */
export class KafkaTail {
  readonly #options: KafkaTailOptions;
  readonly #pause = new Pause();
  #closed = false;
  readonly #done: Promise<void>;

  constructor(options: KafkaTailOptions) {
    this.#options = options;
    options.client.on('error', (err: Error) => options.logger.warn({ err }, 'Kafka tail error'));
    this.#done = this.#run().catch((err: unknown) => options.logger.fatal({ err }, 'Kafka tail stopped'));
  }

  /** Where each partition starts: the first record stamped at or after `since`, else the end. */
  async #start(): Promise<Map<string, number>> {
    const { client, topics, since, from } = this.#options;
    client.topics.trackAll(...topics);
    if (from) return new Map(from);
    const [byTime, ends] = await Promise.all([
      client.listOffsets({ topics: [...topics], timestamp: BigInt(since) }),
      client.listOffsets({ topics: [...topics], timestamp: -1n }),
    ]);
    const positions = new Map<string, number>();
    for (const [topic, partitions] of ends) {
      partitions.forEach((end, p) => {
        const at = byTime.get(topic)?.[p] ?? -1n;
        positions.set(`${topic}:${p}`, Number(at >= 0n ? at : end));
      });
    }
    return positions;
  }

  async #run(): Promise<void> {
    const { client, logger } = this.#options;
    let positions: Map<string, number> | undefined;
    let backoff = 100;
    while (!this.#closed) {
      try {
        positions ??= await this.#start();
        const fetched = await fetchPartitions(
          client,
          [...positions].map(([key, offset]) => {
            const cut = key.lastIndexOf(':');
            return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), offset };
          }),
          { maxWaitMs: FETCH_WAIT_MS, maxBytes: FETCH_MAX_BYTES },
        );
        backoff = 100;
        for (const part of fetched) {
          if (this.#closed) break;
          positions.set(`${part.topic}:${part.partition}`, part.nextOffset);
          if (part.topic === this.#options.derivedTopic) {
            const frames = part.records.flatMap((raw) => derivedFrameOf(raw.value));
            if (frames.length > 0) this.#options.publishDerived(frames);
            continue;
          }
          const records: LogRecord[] = [];
          for (const raw of part.records) {
            try {
              records.push({
                ...decodeRecord(raw.value?.toString('utf8') ?? ''),
                partition: part.partition,
                offset: raw.offset,
              });
            } catch (err) {
              logger.debug(
                { err, topic: part.topic, offset: raw.offset },
                'tail skipped an undecodable record',
              );
            }
          }
          if (records.length > 0) this.#options.publish(records);
        }
      } catch (err) {
        logger.warn({ err }, 'Kafka tail fetch failed; retrying');
        await this.#pause.for(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
    await client.close(true).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pause.interrupt();
    await this.#done;
  }
}

/** A derived frame as a sink produced it, or nothing if the bytes are not one. */
function derivedFrameOf(value: Buffer | undefined | null): DerivedFrame[] {
  try {
    const f = JSON.parse(value?.toString('utf8') ?? '') as Partial<DerivedFrame>;
    const valid =
      typeof f.tenant === 'string' &&
      typeof f.entity === 'string' &&
      typeof f.frame === 'string' &&
      (STREAMS as readonly unknown[]).includes(f.stream);
    return valid ? [f as DerivedFrame] : [];
  } catch {
    return [];
  }
}
