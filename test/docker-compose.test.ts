import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.ts';

// Docker is not available where the suite runs, so the compose file is never started here. This
// checks what can be checked without it: the file parses, and every Beacon service's command and
// environment are accepted by the same configuration loader the image runs.
const file = (name: string) => readFileSync(fileURLToPath(new URL(`../${name}`, import.meta.url)), 'utf8');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}

const compose = parse(file('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const { services } = compose;

test('docker-compose.yml runs Kafka (KRaft), TimescaleDB and Beacon setup, api and two sinks', () => {
  assert.deepEqual(Object.keys(services).sort(), ['api', 'kafka', 'postgres', 'setup', 'sink']);
  assert.match(services.kafka!.image!, /^apache\/kafka:/);
  assert.equal(services.kafka!.environment!.KAFKA_PROCESS_ROLES, 'broker,controller');
  assert.match(services.postgres!.image!, /^timescale\/timescaledb(-ha)?:.*pg16/);
  assert.deepEqual(services.setup!.depends_on, {
    kafka: { condition: 'service_healthy' },
    postgres: { condition: 'service_healthy' },
  });
  for (const role of ['api', 'sink']) {
    assert.deepEqual(services[role]!.depends_on, { setup: { condition: 'service_completed_successfully' } });
  }
  assert.equal(services.sink!.deploy?.replicas, 2);
});

test("each Beacon service's command and environment load as a valid configuration on Kafka and PostgreSQL", () => {
  for (const role of ['setup', 'api', 'sink']) {
    const service = services[role]!;
    assert.equal(service.build, '.', `${role} is built from the Dockerfile`);
    assert.equal(service.command![0], role);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(service.environment ?? {})) {
      if (value !== null) env[name] = String(value);
    }
    const config = loadConfig({ env });
    assert.equal(config.log, 'kafka://kafka:9092', role);
    assert.match(config.store, /^postgres:\/\/beacon:beacon@postgres:5432\/beacon$/, role);
  }
  assert.equal(
    loadConfig({ env: { BEACON_SINK_PORT: String(services.sink!.environment!.BEACON_SINK_PORT) } }).sink.port,
    9464,
  );
});

test('the Dockerfile builds the dashboard in a build stage and runs the CLI on Node 24', () => {
  const dockerfile = file('Dockerfile');
  assert.match(dockerfile, /^FROM node:24[^\s]* AS build$/m);
  assert.match(dockerfile, /RUN npm run build/);
  assert.match(dockerfile, /COPY --from=build \/app\/web\/dist \.\/web\/dist/);
  assert.match(dockerfile, /ENTRYPOINT \["node", "src\/cli\/main\.ts"\]/);
  assert.match(dockerfile, /EXPOSE 8080 9464/);
});
