// A three-node Kafka cluster of a test's own (scripts/kafka cluster with its own home and ports), so
// a fault test may kill brokers without touching the broker other test files share.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { eventually } from './server.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/kafka', import.meta.url));

/** Node ids as scripts/kafka numbers them. */
export type NodeId = 1 | 2 | 3;
export const NODES: readonly NodeId[] = [1, 2, 3];

/** One partition as the cluster reports it. */
export interface PartitionState {
  readonly partition: number;
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export class TestCluster {
  readonly #home: string;
  readonly #env: NodeJS.ProcessEnv;
  /** Broker addresses, node 1 first. */
  readonly brokers: readonly string[];

  /** `home` under .services/, `port` the first broker's (controllers are 10 above). */
  constructor(home: string, port: number) {
    this.#home = fileURLToPath(new URL(`../../.services/${home}`, import.meta.url));
    this.#env = {
      ...process.env,
      BEACON_KAFKA_CLUSTER_HOME: this.#home,
      BEACON_KAFKA_CLUSTER_PORT: String(port),
    };
    this.brokers = NODES.map((n) => `127.0.0.1:${port + n - 1}`);
  }

  /** The `log` setting for Beacon: every broker, so a client can bootstrap from any survivor. */
  get url(): string {
    return `kafka://${this.brokers.join(',')}`;
  }

  #script(...args: string[]): string {
    return execFileSync(SCRIPT, ['cluster', ...args], { env: this.#env, encoding: 'utf8', timeout: 240_000 });
  }

  start(): string {
    return this.#script('start');
  }

  /** SIGKILL: a crash, no controlled shutdown. */
  kill(node: NodeId): string {
    return this.#script('kill', String(node));
  }

  /** Starts a node again; returns once the cluster lists its broker. */
  startNode(node: NodeId): string {
    return this.#script('start-node', String(node));
  }

  /** Stops every node and deletes the cluster's data. */
  destroy(): void {
    try {
      this.#script('stop');
    } finally {
      rmSync(this.#home, { recursive: true, force: true });
    }
  }

  async #admin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = new Admin({
      clientId: 'beacon-test-cluster',
      bootstrapBrokers: [...this.brokers],
      connectTimeout: 1000,
      timeout: 3000,
      retries: 2,
    });
    try {
      return await fn(admin);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  /** Leader, replicas and in-sync replicas of each partition of `topic`, asked of a live broker. */
  partitions(topic: string): Promise<PartitionState[]> {
    return this.#admin(async (admin) => {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      return (metadata.topics.get(topic)?.partitions ?? []).map((p, partition) => ({
        partition,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
      }));
    });
  }

  /** The node leading the partitions of `topic` that hold the most records, and how many they hold. */
  async busiest(topic: string): Promise<{ node: NodeId; records: number }> {
    const partitions = await this.partitions(topic);
    const ends = await this.#admin((admin) =>
      admin.listOffsets({
        topics: [
          {
            name: topic,
            partitions: partitions.map((p) => ({ partitionIndex: p.partition, timestamp: -1n })),
          },
        ],
      }),
    );
    const byLeader = new Map<NodeId, number>();
    for (const p of ends[0]?.partitions ?? []) {
      const leader = partitions[p.partitionIndex]!.leader as NodeId;
      byLeader.set(leader, (byLeader.get(leader) ?? 0) + Number(p.offset));
    }
    const [node, records] = [...byLeader].sort((a, b) => b[1] - a[1])[0]!;
    return { node, records };
  }

  /** Waits until every partition of the topics has a leader and all its replicas in sync. */
  async inSync(topics: readonly string[], ms = 120_000): Promise<void> {
    await eventually(
      async () => {
        for (const topic of topics) {
          const partitions = await this.partitions(topic).catch(() => []);
          if (partitions.length === 0) return undefined;
          if (partitions.some((p) => p.leader < 0 || p.isr.length < p.replicas.length)) return undefined;
        }
        return true;
      },
      ms,
      `every replica of ${topics.join(', ')} in sync`,
      500,
    );
  }
}
