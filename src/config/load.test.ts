import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, loadConfig } from './load.ts';

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'beacon-config-')), 'beacon.yaml');
  writeFileSync(file, text);
  return file;
}

test('defaults apply when nothing is set', () => {
  const config = loadConfig();
  assert.equal(config.port, 8080);
  assert.equal(config.dataDir, './data');
  assert.equal(config.ingest.maxMessageBytes, 65536);
  assert.equal(config.log, 'embedded');
});

test('flags beat environment, environment beats the file', () => {
  const file = yamlFile('port: 7000\ningest:\n  maxBatchItems: 10\nrateLimit:\n  burst: 5\n');
  const config = loadConfig({
    file,
    env: { BEACON_PORT: '7001', BEACON_INGEST_MAX_BATCH_ITEMS: '20' },
    flags: { port: '7002' },
  });
  assert.equal(config.port, 7002);
  assert.equal(config.ingest.maxBatchItems, 20);
  assert.equal(config.rateLimit.burst, 5);
});

test('the result is frozen', () => {
  const config = loadConfig();
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
  assert.ok(Object.isFrozen(config.ingest));
});

test('a bad value fails fast naming the key', () => {
  assert.throws(() => loadConfig({ env: { BEACON_PORT: 'eighty' } }), /CONFIG_INVALID|config key port/);
  assert.throws(() => loadConfig({ flags: { 'ingest.maxBatchItems': '0' } }), /ingest\.maxBatchItems/);
});

test('an unknown key in the file, the environment or a flag is named', () => {
  assert.throws(
    () => loadConfig({ file: yamlFile('ingest:\n  maxBatchItemz: 3\n') }),
    /ingest\.maxBatchItemz is not a known setting/,
  );
  assert.throws(() => loadConfig({ env: { BEACON_PROT: '1' } }), /BEACON_PROT/);
  assert.throws(() => loadConfig({ flags: { prot: '1' } }), /prot/);
});

test("bin/beacon's BEACON_NODE_FLAGS is the launcher's, not a setting, and is not refused", () => {
  assert.equal(loadConfig({ env: { BEACON_NODE_FLAGS: '--max-semi-space-size=1' } }).port, 8080);
});

test('a file that is not YAML or not a mapping is rejected', () => {
  assert.throws(() => loadConfig({ file: yamlFile('port: [1,\n') }), /not valid YAML/);
  assert.throws(() => loadConfig({ file: yamlFile('- 1\n- 2\n') }), /mapping/);
  assert.throws(() => loadConfig({ file: '/nonexistent/beacon.yaml' }), /cannot read/);
});

test('env names follow the schema paths', () => {
  assert.equal(envName('rateLimit.perSecond'), 'BEACON_RATE_LIMIT_PER_SECOND');
  assert.equal(envName('dataDir'), 'BEACON_DATA_DIR');
});

test('http.trustProxy is off by default and takes true, a hop count or proxy addresses, nothing else', () => {
  assert.equal(loadConfig().http.trustProxy, 'false');
  for (const ok of ['true', '2', '127.0.0.1', '10.0.0.0/8, 192.168.1.1,::1'])
    assert.equal(loadConfig({ flags: { 'http.trustProxy': ok } }).http.trustProxy, ok);
  for (const bad of ['yes', 'proxy.example', '10.0.0.0/8;1.2.3.4'])
    assert.throws(() => loadConfig({ env: { BEACON_HTTP_TRUST_PROXY: bad } }), /http\.trustProxy/);
});

test('log and store are checked at load: a bad URL names its key and the shape it must have', () => {
  for (const [env, key] of [
    [{ BEACON_LOG: 'kafka://broker' }, 'log'],
    [{ BEACON_LOG: 'kafak://broker:9092' }, 'log'],
    [{ BEACON_LOG: 'Embedded' }, 'log'],
    [{ BEACON_STORE: 'postgres:/db' }, 'store'],
    [{ BEACON_STORE: 'mysql://host/db' }, 'store'],
  ] as const) {
    assert.throws(
      () => loadConfig({ env }),
      (err: Error & { code?: string }) =>
        err.code === 'CONFIG_INVALID' && err.message.startsWith(`config key ${key} must be `),
      JSON.stringify(env),
    );
  }
  const ok = loadConfig({
    env: { BEACON_LOG: 'kafka://a:9092, [::1]:19092', BEACON_STORE: 'postgresql://u:p@h:5432/db' },
  });
  assert.equal(ok.log, 'kafka://a:9092, [::1]:19092');
  assert.equal(ok.store, 'postgresql://u:p@h:5432/db');
});

test('kafka.minInsyncReplicas above kafka.replicationFactor is refused, naming the key: nothing could be acknowledged', () => {
  assert.throws(
    () => loadConfig({ env: { BEACON_KAFKA_MIN_INSYNC_REPLICAS: '2' } }),
    /config key kafka\.minInsyncReplicas must be at most kafka\.replicationFactor \(1\), not 2/,
  );
  const config = loadConfig({
    env: { BEACON_KAFKA_REPLICATION_FACTOR: '3', BEACON_KAFKA_MIN_INSYNC_REPLICAS: '2' },
  });
  assert.equal(config.kafka.minInsyncReplicas, 2);
});
