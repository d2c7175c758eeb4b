import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applySiteSettings } from './site-settings.ts';
import { sampleSite } from '../../test/helpers/sites.ts';

const site = sampleSite();

test('only the fields given change, normalised as a user types them', () => {
  assert.deepEqual(applySiteSettings(site, {}), site);
  assert.deepEqual(
    applySiteSettings(site, {
      domain: 'https://www.Shop.example/path',
      allowedDomains: ['cdn.shop.example', 'CDN.shop.example', 'http://m.shop.example:8080/'],
      timezone: 'Europe/Berlin',
      respectDnt: true,
    }),
    {
      ...site,
      domain: 'shop.example',
      allowedDomains: ['cdn.shop.example', 'm.shop.example'],
      timezone: 'Europe/Berlin',
      respectDnt: true,
    },
  );
  assert.deepEqual(applySiteSettings(site, { allowedDomains: [] }).allowedDomains, []);
});

test('a bad domain or zone is refused with SITE_INVALID naming it', () => {
  for (const [change, named] of [
    [{ domain: 'not a host' }, 'not a host'],
    [{ allowedDomains: ['ok.example', '/'] }, '"/"'],
    [{ timezone: 'Mars/Olympus' }, 'Mars/Olympus'],
  ] as const) {
    assert.throws(
      () => applySiteSettings(site, change),
      (err: Error & { code?: string }) => err.code === 'SITE_INVALID' && err.message.includes(named),
    );
  }
});

test('salt rotation and currency are chosen from their closed sets', () => {
  assert.deepEqual(applySiteSettings(site, { saltRotation: 'monthly', currency: 'EUR' }), {
    ...site,
    saltRotation: 'monthly',
    currency: 'EUR',
  });
  assert.throws(() => applySiteSettings(site, { saltRotation: 'weekly' }), { code: 'SITE_INVALID' });
  assert.throws(() => applySiteSettings(site, { currency: 'eur' }), {
    code: 'SITE_INVALID',
    message: /ISO 4217/,
  });
});
