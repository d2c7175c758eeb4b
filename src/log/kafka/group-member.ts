import type { Consumer as KafkaConsumer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { Consumer, ConsumeOptions } from '../log.ts';
import { decodeRecord, RecordDecodeError, type LogRecord } from '../record.ts';
import { fetchPartitions, offsetBounds, type FetchedRecord } from './fetch.ts';
import { Pause } from './pause.ts';

/** A record the sink cannot read, on its way to the dead-letter topic. */
export interface DeadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: Buffer | null;
  readonly reason: string;
  readonly group: string;
}

export interface GroupMemberOptions extends ConsumeOptions {
  readonly client: KafkaConsumer;
  readonly topic: string;
  readonly deadLetter: (records: readonly DeadRecord[]) => Promise<void>;
  readonly logger: Logger;
}

const MAX_BACKOFF_MS = 5000;
const FETCH_WAIT_MS = 500;
const FETCH_MAX_BYTES = 8 * 1024 * 1024;

/**
 * One member of a Kafka consumer group. Kafka assigns it partitions; on every assignment it asks
 * `position()` where to resume (the store's checkpoint, saved with the rows), so offsets committed to
 * Kafka play no part in correctness and none are committed. It fetches by itself rather than through
 * the client's stream, so a batch whose handler failed can be offered again from the same offset.
 */
export class KafkaGroupMember implements Consumer {
  readonly #options: GroupMemberOptions;
  readonly #pause = new Pause();
  #closed = false;
  #rejoin = false;
  #done: Promise<void> = Promise.resolve();

  constructor(options: GroupMemberOptions) {
    this.#options = options;
    // The client reports a failed rejoin (the broker was down for longer than its retries) as an
    // event and then stops heartbeating: the member is out of the group until it joins again.
    options.client.on('error', (err: Error) => {
      options.logger.warn({ err }, 'Kafka consumer group error; joining again');
      this.#rejoin = true;
    });
  }

  start(onEnd: () => void): void {
    this.#done = this.#run()
      .catch((err: unknown) => this.#options.logger.fatal({ err }, 'Kafka consumer stopped'))
      .finally(onEnd);
  }

  #assigned(): Set<number> {
    const mine = this.#options.client.assignments?.find((a) => a.topic === this.#options.topic);
    return new Set(mine?.partitions ?? []);
  }

  async #join(): Promise<void> {
    const { client, logger } = this.#options;
    let backoff = 100;
    while (!this.#closed) {
      try {
        await client.joinGroup({ sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 1000 });
        return;
      } catch (err) {
        logger.warn({ err }, 'cannot join the consumer group; retrying');
        await this.#pause.for(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async #run(): Promise<void> {
    const { client, topic, logger } = this.#options;
    client.topics.track(topic);
    await this.#join();
    const positions = new Map<number, number>();
    let logged = '';
    let backoff = 100;
    const failed = async (err: unknown, what: string) => {
      logger.warn({ err, topic }, `${what}; retrying`);
      await this.#pause.for(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };
    while (!this.#closed) {
      if (this.#rejoin) {
        this.#rejoin = false;
        positions.clear();
        await this.#join();
      }
      const assigned = this.#assigned();
      const now = [...assigned].sort((a, b) => a - b).join(',');
      if (now !== logged) {
        logged = now;
        logger.info({ topic, partitions: [...assigned] }, 'partitions assigned');
      }
      for (const p of positions.keys()) if (!assigned.has(p)) positions.delete(p);
      const fresh = [...assigned].filter((p) => !positions.has(p));
      if (fresh.length > 0) {
        try {
          const from = await this.#options.position(fresh);
          for (const p of fresh) positions.set(p, from.get(p) ?? 0);
        } catch (err) {
          await failed(err, 'cannot read resume positions');
          continue;
        }
      }
      if (positions.size === 0) {
        await this.#pause.for(200);
        continue;
      }
      let fetched;
      try {
        fetched = await fetchPartitions(
          client,
          [...positions].map(([partition, offset]) => ({ topic, partition, offset })),
          { maxWaitMs: FETCH_WAIT_MS, maxBytes: FETCH_MAX_BYTES },
        );
      } catch (err) {
        // Only an offset Kafka no longer (or not yet) holds moves a position; any other error retries.
        if (JSON.stringify(err).includes('OFFSET_OUT_OF_RANGE')) await this.#clamp(positions);
        await failed(err, 'Kafka fetch failed');
        continue;
      }
      backoff = 100;
      for (const part of fetched) {
        if (this.#closed || positions.get(part.partition) === undefined) continue;
        await this.#deliver(part.partition, part.records, part.nextOffset, positions);
      }
    }
    await client
      .close(true)
      .catch((err: unknown) => logger.warn({ err }, 'closing the Kafka consumer failed'));
  }

  /**
   * Moves positions that fell outside a partition's records inside: before the first record when
   * retention deleted records no sink had stored (they are gone: logged as an error), past the last
   * when the topic was re-created.
   */
  async #clamp(positions: Map<number, number>): Promise<void> {
    try {
      const bounds = await offsetBounds(this.#options.client, [this.#options.topic]);
      for (const [p, at] of positions) {
        const b = bounds.get(`${this.#options.topic}:${p}`);
        if (!b) continue;
        const clamped = Math.min(Math.max(at, b.earliest), b.latest);
        if (clamped !== at) {
          this.#options.logger.error(
            { partition: p, from: at, to: clamped, ...b },
            'position outside the log; moved (records in between were never stored)',
          );
          positions.set(p, clamped);
        }
      }
    } catch {
      // Kafka is unreachable: the fetch that follows fails again and backs off.
    }
  }

  /** Hands one partition's fetched records to the handler in runs of at most maxBatch. */
  async #deliver(
    partition: number,
    fetched: readonly FetchedRecord[],
    fetchedUpTo: number,
    positions: Map<number, number>,
  ): Promise<void> {
    const { stream, maxBatch, group, topic } = this.#options;
    for (let start = 0; start < Math.max(fetched.length, 1); start += maxBatch) {
      const run = fetched.slice(start, start + maxBatch);
      const records: LogRecord[] = [];
      const dead: DeadRecord[] = [];
      for (const raw of run) {
        try {
          const record = decodeRecord(raw.value?.toString('utf8') ?? '');
          if (record.stream !== stream)
            throw new RecordDecodeError(`stream ${record.stream} in topic ${topic}`);
          records.push({ ...record, partition, offset: raw.offset });
        } catch (err) {
          if (!(err instanceof RecordDecodeError)) throw err;
          dead.push({ topic, partition, offset: raw.offset, value: raw.value, reason: err.message, group });
        }
      }
      const last = start + maxBatch >= fetched.length;
      const nextOffset = last ? fetchedUpTo : run.at(-1)!.offset + 1;
      if (nextOffset <= positions.get(partition)!) return;
      // Dead letters first: if the process dies before the batch is stored they may be written
      // twice, never lost.
      if (dead.length > 0) {
        if (!(await this.#retry(() => this.#options.deadLetter(dead), partition))) return;
        this.#options.logger.warn(
          { partition, dead: dead.map((d) => [d.offset, d.reason]) },
          'records sent to the dead-letter topic',
        );
      }
      const stored = await this.#retry(
        () => this.#options.handle({ stream, partition, records, nextOffset }),
        partition,
      );
      if (!stored) return;
      positions.set(partition, nextOffset);
    }
  }

  /** Runs `fn` until it succeeds; gives up (false) when closed or the partition was taken away. */
  async #retry(fn: () => Promise<void>, partition: number): Promise<boolean> {
    let backoff = 100;
    for (;;) {
      if (this.#closed) return false;
      try {
        await fn();
        return true;
      } catch (err) {
        this.#options.logger.error({ err, partition }, 'sink batch failed; retrying');
        await this.#pause.for(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (!this.#assigned().has(partition)) return false;
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#pause.interrupt();
    await this.#done;
  }
}
