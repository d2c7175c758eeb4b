import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAmount, parseAmount } from './revenue.ts';

test('amounts are thousandths, from numbers and decimal strings, rounded half away from zero', () => {
  assert.equal(parseAmount(10.29), 10290);
  assert.equal(parseAmount('10.29'), 10290);
  assert.equal(parseAmount(0.1 + 0.2), 300);
  assert.equal(parseAmount('1.0005'), 1001);
  assert.equal(parseAmount(1.0005), 1001);
  assert.equal(parseAmount('-4.5'), -4500);
  assert.equal(parseAmount('-0.0001'), 0);
  assert.equal(parseAmount(1e-7), 0);
  assert.equal(parseAmount('1000000000000'), 1e15);
  for (const bad of ['1e3', '', 'abc', '1,5', '10.', '.5', '10000000000000', Infinity, NaN, null, true, {}])
    assert.equal(parseAmount(bad), undefined, JSON.stringify(bad));
});

test('thousandths print as the shortest decimal', () => {
  assert.equal(formatAmount(10290), '10.29');
  assert.equal(formatAmount(-4500), '-4.5');
  assert.equal(formatAmount(7), '0.007');
  assert.equal(formatAmount(5000), '5');
});
