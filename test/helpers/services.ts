import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { KafkaLog, type KafkaLogOptions } from '../../src/log/kafka/kafka-log.ts';
import { parseKafkaUrl } from '../../src/log/kafka/kafka-url.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/kafka', import.meta.url));

/** The broker tests use: scripts/kafka's, unless BEACON_TEST_KAFKA names another. */
export const KAFKA_URL = process.env.BEACON_TEST_KAFKA ?? 'kafka://127.0.0.1:19092';
export const KAFKA_BROKERS = parseKafkaUrl(KAFKA_URL);

let started = false;

/**
 * Makes sure a Kafka broker answers: runs `scripts/kafka start`, which returns at once when the
 * broker is up and otherwise starts it (fetching its jars the first time). A test that needs Kafka
 * fails here, with the script's output, rather than being skipped.
 */
export function ensureKafka(): void {
  if (started || process.env.BEACON_TEST_KAFKA) return;
  try {
    execFileSync(SCRIPT, ['start'], { encoding: 'utf8', stdio: 'pipe', timeout: 240_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`scripts/kafka start failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
  started = true;
}

/** Runs scripts/kafka with a command (stop, start) and returns its output. */
export function kafkaScript(command: 'start' | 'stop' | 'status'): string {
  return execFileSync(SCRIPT, [command], { encoding: 'utf8', stdio: 'pipe', timeout: 240_000 });
}

/** A topic prefix no other test uses, so each test starts on empty topics. */
export const uniquePrefix = (name: string): string => `test.${name}.${randomBytes(4).toString('hex')}.`;

/** Options for a KafkaLog on the test broker; override any of them. */
export function kafkaLogOptions(prefix: string, patch: Partial<KafkaLogOptions> = {}): KafkaLogOptions {
  return {
    brokers: KAFKA_BROKERS,
    clientId: 'beacon-test',
    prefix,
    partitions: 3,
    replicationFactor: 1,
    minInsyncReplicas: 1,
    maxMessageBytes: 8 * 1024 * 1024,
    compression: 'zstd',
    requestTimeoutMs: 5000,
    maxQueue: 100_000,
    recentKeys: 10_000,
    logger: pino({ level: 'silent' }),
    ...patch,
  };
}

/** A KafkaLog on fresh topics (created as `beacon setup` would), opened. */
export async function openKafkaLog(prefix: string, patch: Partial<KafkaLogOptions> = {}): Promise<KafkaLog> {
  ensureKafka();
  const log = new KafkaLog(kafkaLogOptions(prefix, patch));
  await log.setup();
  await log.open();
  return log;
}

/** Deletes every topic whose name starts with `prefix`, so test runs do not pile up partitions. */
export async function dropTopics(prefix: string): Promise<void> {
  const admin = new Admin({ clientId: 'beacon-test-cleanup', bootstrapBrokers: KAFKA_BROKERS });
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.close();
  }
}
