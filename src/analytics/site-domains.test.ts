import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed, normalizeDomain } from './site-domains.ts';

test('domains: subdomains and www are allowed, look-alikes are not', () => {
  assert.equal(hostAllowed('shop.example', ['shop.example']), true);
  assert.equal(hostAllowed('www.shop.example', ['shop.example']), true);
  assert.equal(hostAllowed('eu.shop.example', ['shop.example']), true);
  assert.equal(hostAllowed('evilshop.example', ['shop.example']), false);
  assert.equal(hostAllowed('shop.example.evil', ['shop.example']), false);
  assert.equal(normalizeDomain('https://www.Shop.Example:8443/path'), 'shop.example');
  assert.equal(normalizeDomain('not a domain'), undefined);
});
