import { BeaconError } from '../../errors/catalog.ts';

/**
 * Parses the `log` setting `kafka://host:port[,host:port]` into bootstrap brokers. A port is
 * required: Kafka's own default (9092) is too easy to hit by accident on a shared host.
 */
export function parseKafkaUrl(url: string): string[] {
  const match = /^kafka:\/\/([^/?#]+)\/?$/.exec(url);
  if (!match)
    throw new BeaconError('CONFIG_INVALID', `config key log: ${url} is not kafka://host:port[,host:port]`);
  const brokers = match[1]!.split(',').map((b) => b.trim());
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9._-]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      throw new BeaconError('CONFIG_INVALID', `config key log: broker ${broker} is not host:port`);
    }
  }
  return brokers;
}

/** True when the `log` setting names a Kafka cluster. */
export const isKafkaUrl = (log: string): boolean => log.startsWith('kafka://');
