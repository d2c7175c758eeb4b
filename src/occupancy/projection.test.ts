import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CountingModel } from './counting-model.ts';
import { KEPT_MODELS, modelAt } from './projection.ts';

test('a sink keeps one model per tenant while its version stays, and the most recently counted tenants only', () => {
  const models = new Map<string, CountingModel>();
  const first = modelAt(models, 't0', 3);
  assert.equal(modelAt(models, 't0', 3), first, 'the same version keeps what was read');
  const next = modelAt(models, 't0', 4);
  assert.notEqual(next, first, 'a new version reads the model again');
  assert.equal(next.version, 4);
  for (let i = 1; i < KEPT_MODELS; i++) modelAt(models, `t${i}`, 1);
  assert.equal(models.size, KEPT_MODELS);
  // t0 counted again is the most recent: the next new tenant drops t1, the least recent.
  assert.equal(modelAt(models, 't0', 4), next);
  modelAt(models, 'new', 1);
  assert.equal(models.size, KEPT_MODELS);
  assert.ok(!models.has('t1'));
  assert.equal(models.get('t0'), next);
});
