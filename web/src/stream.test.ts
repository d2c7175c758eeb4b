import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, streamUrl } from './stream.ts';

test('backoff doubles from 0.5 s to a 30 s cap, jittered within the upper half', () => {
  assert.equal(
    backoffDelay(1, () => 0),
    250,
  );
  assert.equal(
    backoffDelay(1, () => 1),
    500,
  );
  assert.equal(
    backoffDelay(2, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(4, () => 1),
    4000,
  );
  assert.equal(
    backoffDelay(20, () => 1),
    30_000,
  );
  assert.equal(
    backoffDelay(20, () => 0),
    15_000,
  );
});

test('the stream URL matches the page scheme and carries no token', () => {
  const https = { protocol: 'https:', host: 'beacon.example:8443' } as Location;
  const http = { protocol: 'http:', host: 'localhost:8080' } as Location;
  assert.equal(streamUrl(['messages'], https), 'wss://beacon.example:8443/v1/stream?streams=messages');
  assert.equal(
    streamUrl(['messages', 'checks'], http),
    'ws://localhost:8080/v1/stream?streams=messages%2Cchecks',
  );
});
