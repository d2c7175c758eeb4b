import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_PUBLIC_PAGES, openingTenant, type PublicPageShows } from './badges.ts';

const tokens = (secret: string) => Promise.resolve(secret === 'good' ? 'acme' : undefined);
/** A status page `ours` of tenant acme that lists the target `web` only. */
const pages: PublicPageShows = (slug, target) =>
  Promise.resolve(slug === 'ours' && target === 'web' ? { tenant: 'acme' } : undefined);

test('a badge token opens its tenant’s targets; without status pages, ?page= opens nothing', async () => {
  assert.equal(await openingTenant({ token: 'good' }, 'web', tokens, NO_PUBLIC_PAGES), 'acme');
  assert.equal(await openingTenant({ token: 'bad' }, 'web', tokens, NO_PUBLIC_PAGES), undefined);
  assert.equal(await openingTenant({ page: 'ours' }, 'web', tokens, NO_PUBLIC_PAGES), undefined);
  assert.equal(await openingTenant({}, 'web', tokens, NO_PUBLIC_PAGES), undefined);
});

test('once status pages are wired, a public page opens the targets it lists, and only those', async () => {
  assert.equal(await openingTenant({ page: 'ours' }, 'web', tokens, pages), 'acme');
  assert.equal(await openingTenant({ page: 'ours' }, 'db', tokens, pages), undefined);
  assert.equal(await openingTenant({ page: 'theirs' }, 'web', tokens, pages), undefined);
  // A wrong token does not stop a page that lists the target.
  assert.equal(await openingTenant({ token: 'bad', page: 'ours' }, 'web', tokens, pages), 'acme');
});
