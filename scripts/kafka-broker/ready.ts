// Exits 0 once a Kafka broker at the given address answers a metadata request and lists itself;
// scripts/kafka uses it to wait for start-up (a listening port is not yet a working broker).
import { Admin } from '@platformatic/kafka';

const address = process.argv[2] ?? '127.0.0.1:19092';
const admin = new Admin({
  clientId: 'beacon-kafka-ready',
  bootstrapBrokers: [address],
  connectTimeout: 1000,
  timeout: 2000,
  retries: 0,
});
try {
  const metadata = await admin.metadata({ topics: [] });
  process.exitCode = metadata.brokers.size > 0 ? 0 : 1;
} catch {
  process.exitCode = 1;
} finally {
  await admin.close().catch(() => undefined);
}
