import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKafkaUrl, parseKafkaUrl } from './kafka-url.ts';

test('a kafka:// URL gives its brokers', () => {
  assert.deepEqual(parseKafkaUrl('kafka://127.0.0.1:19092'), ['127.0.0.1:19092']);
  assert.deepEqual(parseKafkaUrl('kafka://k1.example:9092,k2.example:9093/'), [
    'k1.example:9092',
    'k2.example:9093',
  ]);
  assert.equal(isKafkaUrl('kafka://x:1'), true);
  assert.equal(isKafkaUrl('embedded'), false);
});

test('a malformed kafka URL is a CONFIG_INVALID naming the key', () => {
  for (const bad of ['kafka://', 'kafka://host', 'kafka://host:port', 'kafka://a:1,,b:2', 'kafka:/a:1']) {
    assert.throws(
      () => parseKafkaUrl(bad),
      (err: { code?: string; message: string }) =>
        err.code === 'CONFIG_INVALID' && err.message.includes('config key log'),
      bad,
    );
  }
});
