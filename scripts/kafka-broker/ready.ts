// Exits 0 once a Kafka broker at the given address answers a metadata request listing the brokers
// named in the second argument (comma-separated node ids), or any broker when there is none;
// scripts/kafka uses it to wait for start-up (a listening port is not yet a working broker, and a
// cluster node is not yet part of the cluster).
import { Admin } from '@platformatic/kafka';

const address = process.argv[2] ?? '127.0.0.1:19092';
const wanted = (process.argv[3] ?? '').split(',').filter(Boolean).map(Number);
const admin = new Admin({
  clientId: 'beacon-kafka-ready',
  bootstrapBrokers: [address],
  connectTimeout: 1000,
  timeout: 2000,
  retries: 0,
});
try {
  const metadata = await admin.metadata({ topics: [] });
  const listed = wanted.every((id) => metadata.brokers.has(id));
  process.exitCode = metadata.brokers.size > 0 && listed ? 0 : 1;
} catch {
  process.exitCode = 1;
} finally {
  await admin.close().catch(() => undefined);
}
