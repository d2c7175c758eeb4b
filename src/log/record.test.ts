import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeRecord, RecordDecodeError, type NewRecord } from './record.ts';

const record: NewRecord = {
  stream: 'messages',
  tenant: 'default',
  key: 'k1',
  entity: 'default',
  id: '0190a1b2-0000-7000-8000-000000000001',
  ts: Date.UTC(2026, 10, 23, 12, 0, 0, 123),
  receivedAt: Date.UTC(2026, 10, 23, 12, 0, 0, 456),
  body: { hello: 'world', n: [1, 2] },
};

test('a record survives encode and decode unchanged', () => {
  assert.deepEqual(decodeRecord(encodeRecord(record)), record);
});

test('a body ingest already encoded is carried as it came, with the same wire bytes otherwise', () => {
  const json = JSON.stringify(record.body);
  assert.equal(encodeRecord({ ...record, bodyJson: json }), encodeRecord(record));
  // NDJSON lines keep their own spacing; the record decodes to the same body.
  const spaced = encodeRecord({ ...record, bodyJson: '{ "hello" : "world", "n": [1, 2] }' });
  assert.deepEqual(decodeRecord(spaced), record);
  assert.equal(decodeRecord(encodeRecord({ ...record, body: undefined })).body, null);
});

test('times on the wire are ISO 8601 UTC with milliseconds', () => {
  const wire = JSON.parse(encodeRecord(record)) as Record<string, unknown>;
  assert.equal(wire.v, 1);
  assert.equal(wire.ts, '2026-11-23T12:00:00.123Z');
  assert.equal(wire.receivedAt, '2026-11-23T12:00:00.456Z');
});

test('bad records are refused with a reason', () => {
  const bad = (patch: Record<string, unknown>) =>
    JSON.stringify({ ...JSON.parse(encodeRecord(record)), ...patch });
  assert.throws(() => decodeRecord('{nope'), RecordDecodeError);
  assert.throws(() => decodeRecord('null'), /not an object/);
  assert.throws(() => decodeRecord(bad({ v: 2 })), /wire version 2/);
  assert.throws(() => decodeRecord(bad({ stream: 'x' })), /unknown stream/);
  assert.throws(() => decodeRecord(bad({ tenant: '' })), /tenant/);
  assert.throws(() => decodeRecord(bad({ ts: 'yesterday' })), /not a time/);
});
