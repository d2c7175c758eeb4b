import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteMethods } from './methods.ts';

test('a known path lists the methods its routes answer; an unknown path none', () => {
  const routes = new RouteMethods();
  routes.add('GET', '/v1/targets');
  routes.add(['POST', 'get'], '/v1/targets');
  routes.add('DELETE', '/v1/targets/:id');
  routes.add('GET', '/v1/targets/:id');
  routes.add('GET', '/static/*');
  assert.deepEqual(routes.allowed('/v1/targets'), ['GET', 'POST']);
  assert.deepEqual(routes.allowed('/v1/targets/web-1'), ['DELETE', 'GET']);
  assert.deepEqual(routes.allowed('/v1/targets/web-1/checks'), []);
  assert.deepEqual(routes.allowed('/static/a/b.css'), ['GET']);
  assert.deepEqual(routes.allowed('/v1/targetsx'), []);
  assert.deepEqual(routes.allowed('/v1.targets'), []);
});

test('a static path beside a parameter is its own resource', () => {
  const routes = new RouteMethods();
  routes.add(['GET', 'DELETE'], '/v1/sites/:id');
  routes.add(['POST', 'PATCH'], '/v1/sites/bulk');
  assert.deepEqual(routes.allowed('/v1/sites/bulk'), ['PATCH', 'POST']);
  assert.deepEqual(routes.allowed('/v1/sites/st_1'), ['DELETE', 'GET']);
});
