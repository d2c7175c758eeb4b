import { randomUUID } from 'node:crypto';
import {
  Admin,
  compatibilityPartitioner,
  Consumer as KafkaConsumer,
  Producer,
  ProduceAcks,
  type MessageToProduce,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import { BeaconError } from '../../errors/catalog.ts';
import type {
  Consumer,
  ConsumeOptions,
  DerivedFrame,
  DerivedListener,
  Log,
  Positions,
  TailListener,
} from '../log.ts';
import {
  STREAMS,
  encodeRecord,
  prepareRecords,
  type Appended,
  type NewRecord,
  type Stream,
} from '../record.ts';
import { KafkaGroupMember } from './group-member.ts';
import { KafkaTail } from './tail.ts';
import {
  ensureTopics,
  allTopics,
  deadLetterTopic,
  liveTopic,
  streamTopic,
  type TopicLayout,
  type TopicSetup,
} from './topics.ts';

export interface KafkaLogOptions extends TopicLayout {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly compression: 'zstd' | 'lz4' | 'gzip' | 'snappy' | 'none';
  /** Longest a produce or fetch request may take before the broker counts as unreachable. */
  readonly requestTimeoutMs: number;
  /** Records waiting to be produced before append answers LOG_BUSY. */
  readonly maxQueue: number;
  /** Idempotency keys remembered per process, so a quick retry is answered like the first try. */
  readonly recentKeys: number;
  readonly logger: Logger;
  readonly onCommit?: (records: number, seconds: number) => void;
}

interface Waiter {
  readonly records: readonly NewRecord[];
  /** About what its records weigh encoded: bodies and each record's envelope. */
  readonly bytes: number;
  readonly resolve: (answers: Appended[]) => void;
  readonly reject: (err: unknown) => void;
}

/** After a failed produce, appends fail at once for this long instead of each waiting on the broker. */
const UNAVAILABLE_HOLD_MS = 1000;

/**
 * Records in one produce request at most; the rest wait for the next. Compressed, a request stays
 * well under the broker's default message.max.bytes (1 MiB) per partition.
 */
const MAX_SEND_RECORDS = 8000;

/**
 * Bytes in one produce request at most, before compression; an append larger than this goes alone.
 * A request's records for one partition form one record batch, which the broker refuses whole when
 * it exceeds the topic's max.message.bytes: bounding by bytes keeps one client's large batch from
 * failing the small appends that would have shared its request. `beacon setup` sets
 * max.message.bytes above the largest batch a client may send (`topicMaxMessageBytes`).
 */
const MAX_SEND_BYTES = 1024 * 1024;

/** What a record's envelope (ids, key, times, stream) adds to its body, roughly, encoded. */
const RECORD_OVERHEAD_BYTES = 200;

/** Kafka's answers to a produce request whose record batch is larger than the topic takes. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Whether `err`, or an error it wraps (the client nests them per broker and partition), has one of `ids`. */
export function kafkaErrorIn(err: unknown, ids: ReadonlySet<string>, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 8) return false;
  const e = err as { apiId?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.apiId === 'string' && ids.has(e.apiId)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => kafkaErrorIn(inner, ids, depth + 1))) return true;
  return kafkaErrorIn(e.cause, ids, depth + 1);
}

/** A tail started within this long of open() starts where the log ended at open(). */
const TAIL_FROM_OPEN_MS = 10_000;

/** Kafka message key: tenant and entity, so one entity's records share a partition and keep order. */
export const partitionKey = (record: Pick<NewRecord, 'tenant' | 'entity'>): string =>
  `${record.tenant}/${record.entity}`;

const keyOf = (r: Pick<NewRecord, 'tenant' | 'stream' | 'key'>) =>
  `${r.tenant}\u0000${r.stream}\u0000${r.key}`;

/**
 * The log on Apache Kafka (or any Kafka-protocol broker): one topic per stream, records in wire
 * format v1. Appends go out through one idempotent producer with acks=all, which has one request in
 * flight at a time: appends made while a request is out go together in the next one, so a request
 * grows with the load (group commit, as the embedded log does). An append resolves only once Kafka
 * acknowledged it. Kafka cannot check idempotency keys, so the store's unique key is what stores a record once;
 * this process also remembers recent keys so a quick retry gets the first answer (docs/architecture.md).
 */
export class KafkaLog implements Log {
  readonly backend = 'kafka' as const;
  /** Only within one process's recent window (`kafka.recentKeys`): see docs/architecture.md. */
  readonly checksKeys = false;
  readonly #options: KafkaLogOptions;
  #producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  #waiters: Waiter[] = [];
  #queued = 0;
  #scheduled = false;
  /** A produce request is out; appends wait for the next. */
  #sending = false;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;
  #unavailableUntil = 0;
  readonly #recent = new Map<string, Appended>();
  readonly #consumers = new Set<KafkaGroupMember>();
  readonly #tailListeners = new Set<TailListener>();
  readonly #derivedListeners = new Set<DerivedListener>();
  #liveProducer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  #tail: KafkaTail | undefined;
  /** Tails stopped when their last listener left, until their consumers have closed. */
  readonly #closingTails = new Set<KafkaTail>();
  #offsetsClient: KafkaConsumer | undefined;
  #tailFrom: Map<string, number> | undefined;
  #openedAt = 0;

  constructor(options: KafkaLogOptions) {
    this.#options = options;
  }

  #connection(clientId: string) {
    return {
      clientId,
      bootstrapBrokers: [...this.#options.brokers],
      connectTimeout: Math.min(3000, this.#options.requestTimeoutMs),
      timeout: this.#options.requestTimeoutMs,
      retries: 2,
      retryDelay: 200,
    };
  }

  /** Creates the topics that are missing (`beacon setup`), reporting created and existing ones. */
  async setup(): Promise<TopicSetup> {
    const admin = new Admin(this.#connection(`${this.#options.clientId}-setup`));
    try {
      return await ensureTopics(admin, this.#options);
    } catch (cause) {
      if (cause instanceof BeaconError) throw cause;
      throw new BeaconError('LOG_UNAVAILABLE', `cannot create topics on ${this.#options.brokers.join(',')}`, {
        cause,
      });
    } finally {
      await admin.close();
    }
  }

  /** Checks that Kafka answers and every topic exists; a missing topic means `beacon setup` has not run. */
  async open(): Promise<void> {
    const admin = new Admin(this.#connection(`${this.#options.clientId}-open`));
    let present: string[];
    try {
      present = await admin.listTopics();
    } catch (cause) {
      throw new BeaconError(
        'LOG_UNAVAILABLE',
        `Kafka at ${this.#options.brokers.join(',')} does not answer`,
        {
          cause,
        },
      );
    } finally {
      await admin.close();
    }
    const missing = allTopics(this.#options).filter((t) => !present.includes(t));
    if (missing.length > 0) {
      throw new BeaconError(
        'LOG_UNAVAILABLE',
        `Kafka topics missing (run \`beacon setup\`): ${missing.join(', ')}`,
      );
    }
    // Where the live tail starts if it is asked for soon (it usually is, right after open): taken
    // now, so a record appended after open() resolved is never missed by a tail started later.
    this.#tailFrom = await this.#endsOf([
      ...STREAMS.map((s) => streamTopic(this.#options, s)),
      liveTopic(this.#options),
    ]);
    this.#openedAt = Date.now();
    this.#producer = new Producer({
      ...this.#connection(`${this.#options.clientId}-producer`),
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: this.#options.compression,
      // Kafka's own key hashing, so any client computes the same partition for a key.
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
    });
  }

  append(records: readonly NewRecord[]): Promise<Appended[]> {
    if (this.#closed || !this.#producer) return Promise.reject(new BeaconError('SHUTTING_DOWN'));
    if (Date.now() < this.#unavailableUntil) {
      return Promise.reject(
        new BeaconError('LOG_UNAVAILABLE', 'Kafka is unreachable; nothing was accepted', { retryAfter: 1 }),
      );
    }
    if (this.#queued + records.length > this.#options.maxQueue) {
      return Promise.reject(new BeaconError('LOG_BUSY', undefined, { retryAfter: 1 }));
    }
    let prepared: readonly NewRecord[];
    try {
      prepared = prepareRecords(records);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<Appended[]>((resolve, reject) => {
      let bytes = 0;
      for (const r of prepared) bytes += (r.bodyJson?.length ?? 0) + RECORD_OVERHEAD_BYTES;
      this.#waiters.push({ records: prepared, bytes, resolve, reject });
      this.#queued += records.length;
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Produces what was submitted while the last request was out, in one request of up to
   * MAX_SEND_RECORDS and MAX_SEND_BYTES (the first append is always taken, whatever its size).
   */
  #flush(): void {
    this.#scheduled = false;
    if (this.#sending || this.#waiters.length === 0) return;
    let take = 1;
    let records = this.#waiters[0]!.records.length;
    let bytes = this.#waiters[0]!.bytes;
    while (take < this.#waiters.length) {
      const next = this.#waiters[take]!;
      if (records + next.records.length > MAX_SEND_RECORDS || bytes + next.bytes > MAX_SEND_BYTES) break;
      records += next.records.length;
      bytes += next.bytes;
      take++;
    }
    const waiters = this.#waiters.splice(0, take);
    const count = waiters.reduce((n, w) => n + w.records.length, 0);
    // Answers for keys seen before (in this process, or earlier in this flush) are known already.
    const answers: (Appended | undefined)[][] = [];
    const firstInFlush = new Map<string, NewRecord>();
    const messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = [];
    const sent: NewRecord[] = [];
    for (const waiter of waiters) {
      answers.push(
        waiter.records.map((r) => {
          const key = keyOf(r);
          const known = this.#recent.get(key);
          if (known) return { ...known, duplicate: true };
          const first = firstInFlush.get(key);
          if (first) return { id: first.id, receivedAt: first.receivedAt, duplicate: true };
          if (r.key !== r.id) firstInFlush.set(key, r);
          sent.push(r);
          messages.push({
            topic: streamTopic(this.#options, r.stream),
            key: Buffer.from(partitionKey(r)),
            value: Buffer.from(encodeRecord(r)),
            timestamp: BigInt(r.receivedAt),
          });
          return undefined;
        }),
      );
    }
    const started = performance.now();
    const done = (messages.length === 0 ? Promise.resolve() : this.#producer!.send({ messages })).then(
      () => {
        this.#queued -= count;
        this.#options.onCommit?.(messages.length, (performance.now() - started) / 1000);
        for (const r of sent) if (r.key !== r.id) this.#remember(r);
        waiters.forEach((waiter, i) =>
          waiter.resolve(
            waiter.records.map(
              (r, j) => answers[i]![j] ?? { id: r.id, receivedAt: r.receivedAt, duplicate: false },
            ),
          ),
        );
      },
      (cause: unknown) => {
        if (kafkaErrorIn(cause, TOO_LARGE)) {
          // The broker refused this request's size, not the records waiting after it: only the
          // appends in it fail, and the broker is not held to be away.
          this.#queued -= count;
          this.#options.logger.warn({ err: cause, records: count }, 'Kafka refused a request as too large');
          const err = new BeaconError(
            'BODY_TOO_LARGE',
            "Kafka refused the records as larger than the topic's max.message.bytes; nothing was accepted",
            { cause },
          );
          for (const waiter of waiters) waiter.reject(err);
          return;
        }
        // Appends waiting for the next request fail with this one: the broker just failed, and
        // each would otherwise wait out the producer's retries before its 503.
        const failed = [...waiters, ...this.#waiters.splice(0)];
        this.#queued -= failed.reduce((n, w) => n + w.records.length, 0);
        this.#unavailableUntil = Date.now() + UNAVAILABLE_HOLD_MS;
        this.#options.logger.warn({ err: cause, records: count }, 'Kafka produce failed; answering 503');
        const err = new BeaconError('LOG_UNAVAILABLE', 'Kafka did not acknowledge; nothing was accepted', {
          cause,
          retryAfter: 1,
        });
        for (const waiter of failed) waiter.reject(err);
      },
    );
    this.#sending = true;
    this.#inFlight.add(done);
    void done.finally(() => {
      this.#inFlight.delete(done);
      this.#sending = false;
      this.#flush();
    });
  }

  #remember(record: NewRecord): void {
    const key = keyOf(record);
    this.#recent.set(key, { id: record.id, receivedAt: record.receivedAt, duplicate: false });
    // A Map iterates in insertion order: the first entry is the oldest.
    if (this.#recent.size > this.#options.recentKeys) this.#recent.delete(this.#recent.keys().next().value!);
  }

  /** Records waiting for Kafka's acknowledgement. */
  get queued(): number {
    return this.#queued;
  }

  consume(options: ConsumeOptions): Consumer {
    const member = new KafkaGroupMember({
      ...options,
      client: new KafkaConsumer({
        ...this.#connection(`${this.#options.clientId}-${options.group}`),
        // Prefixed like the topics, so deployments sharing a broker never share a group (a member
        // of one would otherwise stall the other's rebalances).
        groupId: `${this.#options.prefix}${options.group}`,
        sessionTimeout: 10_000,
        rebalanceTimeout: 10_000,
        heartbeatInterval: 1000,
        autocommit: false,
      }),
      topic: streamTopic(this.#options, options.stream),
      deadLetter: (dead) => this.#deadLetter(dead),
      logger: this.#options.logger.child({ group: options.group }),
    });
    this.#consumers.add(member);
    member.start(() => this.#consumers.delete(member));
    return member;
  }

  /** Writes undecodable records to the dead-letter topic, raw, with why and where they came from. */
  async #deadLetter(
    dead: readonly {
      topic: string;
      partition: number;
      offset: number;
      value: Buffer | null;
      reason: string;
      group: string;
    }[],
  ): Promise<void> {
    if (dead.length === 0) return;
    if (!this.#producer) throw new BeaconError('LOG_UNAVAILABLE', 'the log is not open');
    await this.#producer.send({
      messages: dead.map((d) => ({
        topic: deadLetterTopic(this.#options),
        key: Buffer.from(`${d.topic}/${d.partition}/${d.offset}`),
        value: d.value ?? Buffer.alloc(0),
        headers: new Map([
          [Buffer.from('beacon-reason'), Buffer.from(d.reason)],
          [Buffer.from('beacon-topic'), Buffer.from(d.topic)],
          [Buffer.from('beacon-partition'), Buffer.from(String(d.partition))],
          [Buffer.from('beacon-offset'), Buffer.from(String(d.offset))],
          [Buffer.from('beacon-group'), Buffer.from(d.group)],
        ]),
      })),
    });
  }

  tail(listener: TailListener): () => void {
    this.#tailListeners.add(listener);
    this.#startTail();
    return () => {
      this.#tailListeners.delete(listener);
      this.#stopTailIfIdle();
    };
  }

  /**
   * Produces derived frames to the live topic, where every API process's tail reads them. acks=1 on
   * a producer of their own: they never wait behind, or hold up, the records' idempotent requests.
   */
  publishDerived(frames: readonly DerivedFrame[]): void {
    if (this.#closed || !this.#producer || frames.length === 0) return;
    this.#liveProducer ??= new Producer({
      ...this.#connection(`${this.#options.clientId}-live`),
      acks: ProduceAcks.LEADER,
      compression: this.#options.compression,
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
    });
    this.#liveProducer
      .send({
        messages: frames.map((f) => ({
          topic: liveTopic(this.#options),
          key: Buffer.from(partitionKey(f)),
          value: Buffer.from(JSON.stringify(f)),
        })),
      })
      .catch((err: unknown) => this.#options.logger.warn({ err }, 'live frames not sent to Kafka'));
  }

  tailDerived(listener: DerivedListener): () => void {
    this.#derivedListeners.add(listener);
    this.#startTail();
    return () => {
      this.#derivedListeners.delete(listener);
      this.#stopTailIfIdle();
    };
  }

  /** One reader per process serves every listener; it starts with the first of them. */
  #startTail(): void {
    this.#tail ??= new KafkaTail({
      client: new KafkaConsumer({
        ...this.#connection(`${this.#options.clientId}-tail`),
        // Never joined: the tail reads every partition itself, so each API process sees every record.
        groupId: `beacon-tail-${randomUUID()}`,
        autocommit: false,
      }),
      topics: [...STREAMS.map((s) => streamTopic(this.#options, s)), liveTopic(this.#options)],
      since: Date.now(),
      // A tail asked for long after open() starts from the time it was asked for instead.
      from: Date.now() - this.#openedAt < TAIL_FROM_OPEN_MS ? this.#tailFrom : undefined,
      publish: (records) => this.#notify(this.#tailListeners, records),
      derivedTopic: liveTopic(this.#options),
      publishDerived: (frames) => this.#notify(this.#derivedListeners, frames),
      logger: this.#options.logger.child({ component: 'kafka-tail' }),
    });
  }

  #notify<T>(listeners: ReadonlySet<(items: readonly T[]) => void>, items: readonly T[]): void {
    for (const l of listeners) {
      try {
        l(items);
      } catch (err) {
        this.#options.logger.error({ err }, 'log tail listener failed');
      }
    }
  }

  /**
   * With nobody listening, stops fetching and decoding every record. The next listener starts a
   * tail from its own time, which is all a live stream owes it.
   */
  #stopTailIfIdle(): void {
    if (this.#tailListeners.size > 0 || this.#derivedListeners.size > 0 || !this.#tail) return;
    const tail = this.#tail;
    this.#tail = undefined;
    this.#closingTails.add(tail);
    void tail.close().finally(() => this.#closingTails.delete(tail));
  }

  async endOffsets(stream: Stream): Promise<Positions> {
    const topic = streamTopic(this.#options, stream);
    const ends = await this.#endsOf([topic]);
    const positions = new Map<number, number>();
    for (const [key, end] of ends) positions.set(Number(key.slice(topic.length + 1)), end);
    return positions;
  }

  /** One ListOffsets round trip on the messages topic, on the client endOffsets() keeps open anyway. */
  async ping(): Promise<void> {
    await this.#endsOf([streamTopic(this.#options, 'messages')]);
  }

  /** The next offset of every partition of the topics, keyed `topic:partition`. */
  async #endsOf(topics: readonly string[]): Promise<Map<string, number>> {
    // One client serves every call: drains and lag checks ask often.
    this.#offsetsClient ??= new KafkaConsumer({
      ...this.#connection(`${this.#options.clientId}-offsets`),
      groupId: `beacon-offsets-${randomUUID()}`,
    });
    try {
      const offsets = await this.#offsetsClient.listOffsets({ topics: [...topics] });
      const ends = new Map<string, number>();
      for (const [topic, partitions] of offsets) {
        partitions.forEach((end, partition) => ends.set(`${topic}:${partition}`, Number(end)));
      }
      return ends;
    } catch (cause) {
      throw new BeaconError('LOG_UNAVAILABLE', 'cannot read end offsets from Kafka', {
        cause,
        retryAfter: 1,
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Appends accepted before close still go out, request after request.
    this.#flush();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await Promise.all([...this.#consumers].map((c) => c.close()));
    this.#tailListeners.clear();
    this.#derivedListeners.clear();
    await Promise.all([this.#tail?.close(), ...[...this.#closingTails].map((t) => t.close())]);
    await this.#offsetsClient?.close();
    await this.#liveProducer?.close();
    await this.#producer?.close();
  }
}
