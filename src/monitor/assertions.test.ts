import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertionProblem, evaluateAssertions, parsePath, type Assertion } from './assertions.ts';

const body = Buffer.from(
  JSON.stringify({ status: 'ok', n: 3, list: [1, 'two', { x: true }], 'odd key': null, s: '42' }),
);
const run = (a: Assertion) =>
  evaluateAssertions([a], { body, headers: { 'content-type': 'application/json' }, durationMs: 120 })[0]!;

test('selectors: dots, quoted keys, indexes from either end', () => {
  assert.deepEqual(parsePath(`$.list[-1]["x"]`), ['list', -1, 'x']);
  assert.deepEqual(parsePath(`$['odd key']`), ['odd key']);
  assert.throws(() => parsePath('status'), /start with \$/);
  assert.throws(() => parsePath('$.a[*]'), /cannot read/);
});

test('comparisons on the JSON body, headers and response time', () => {
  assert.deepEqual(run({ type: 'json', path: '$.status', op: 'equals', value: 'ok' }), {
    ok: true,
    actual: 'ok',
  });
  assert.equal(
    run({ type: 'json', path: '$.n', op: 'equals', value: '3' }).ok,
    false,
    'no conversion: 3 is not "3"',
  );
  assert.equal(
    run({ type: 'json', path: '$.s', op: 'greaterThan', value: 40 }).ok,
    true,
    'numeric text compares as a number',
  );
  assert.equal(run({ type: 'json', path: '$.list', op: 'contains', value: 'two' }).ok, true);
  assert.equal(run({ type: 'json', path: '$.list[2].x', op: 'equals', value: true }).ok, true);
  assert.deepEqual(run({ type: 'json', path: '$.missing', op: 'absent' }), { ok: true, actual: null });
  assert.equal(run({ type: 'json', path: "$['odd key']", op: 'exists' }).ok, true, 'null is a value');
  assert.equal(run({ type: 'json', path: '$.status', op: 'matches', value: '^o.$' }).ok, true);
  assert.equal(run({ type: 'header', name: 'Content-Type', op: 'contains', value: 'json' }).ok, true);
  assert.equal(run({ type: 'header', name: 'x-missing', op: 'absent' }).ok, true);
  assert.deepEqual(run({ type: 'responseTime', op: 'lessThan', value: 100 }), { ok: false, actual: '120' });
  const notJson = evaluateAssertions([{ type: 'json', path: '$', op: 'exists' }], {
    body: Buffer.from('<html>'),
    headers: {},
    durationMs: 1,
  });
  assert.deepEqual(notJson, [{ ok: false, actual: 'the body is not JSON' }]);
});

test('problems a schema cannot see', () => {
  assert.match(assertionProblem({ type: 'json', path: '$.a', op: 'equals' })!, /needs a value/);
  assert.match(assertionProblem({ type: 'json', path: '$.a', op: 'matches', value: '(' })!, /RE2/);
  assert.equal(assertionProblem({ type: 'responseTime', op: 'lessThan', value: 5 }), undefined);
});
