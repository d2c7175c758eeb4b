// Status pages in Chromium: the dashboard creates a page and publishes an incident update; the public
// page, opened without a token, shows target states, 90 day bars (their hover text) and the update,
// and reads the same with JavaScript disabled.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signedIn as signedInAt } from './helpers/browser.ts';
import { startTestBeacon, type TestBeacon } from './helpers/server.ts';
import { seedHistory } from './helpers/status-pages.ts';

let beacon: TestBeacon;
let browser: Browser;

before(async () => {
  beacon = await startTestBeacon({ 'monitor.enabled': false });
  browser = await launchChromium();
  for (const id of ['shop', 'api'])
    await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id, name: `The ${id}`, url: `https://${id}.private.example/`, tags: ['web'] },
    });
  await seedHistory(beacon.store, {
    tenant: 'default',
    targets: ['shop', 'api'],
    days: 90,
    down: ['api'],
    downOf: (target, ago) => (target === 'shop' && ago === 5 ? 72 : 0),
  });
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
});

const signedIn = (path: string): Promise<Page> => signedInAt(browser, beacon.url, path);

test('the dashboard creates a status page, publishes and edits an update, and links to the public page', async () => {
  const page = await signedIn('/status-pages');
  await page.getByTestId('status-pages-empty').waitFor();
  await page.getByTestId('status-page-new').click();
  const form = page.getByTestId('status-page-form');
  await form.getByTestId('status-page-title').fill('Acme status');
  await form.getByTestId('status-page-slug').fill('Bad Slug');
  await form.getByTestId('status-page-groups').fill('Shop: shop\nBackends: #web');
  await form.getByTestId('status-page-save').click();
  // The API's own word on a slug it refuses.
  assert.match(await form.getByTestId('status-page-problem').innerText(), /slug/);
  await form.getByTestId('status-page-slug').fill('acme');
  await form.getByTestId('status-page-save').click();
  const row = page.locator('[data-testid="status-page-row"]').filter({ hasText: 'Acme status' });
  await row.waitFor();
  assert.equal(await row.getByTestId('status-page-link').getAttribute('href'), '/status/acme');

  const updates = page.getByTestId('status-updates');
  await updates.waitFor();
  await updates.getByTestId('status-update-title').fill('Checkout errors');
  await updates.getByTestId('status-update-status').selectOption('identified');
  await updates
    .getByTestId('status-update-body')
    .fill('The **payment** provider fails; [details](https://example.com/x).');
  await updates.getByTestId('status-update-at').fill('2026-03-01T09:30');
  await updates.getByTestId('status-update-publish').click();
  await updates.locator('[data-testid="status-update-row"]').filter({ hasText: 'Checkout errors' }).waitFor();
  const published = (await (await beacon.request('/v1/status-pages')).json()) as { items: { id: string }[] };
  const listed = (await (
    await beacon.request(`/v1/status-pages/${published.items[0]!.id}/updates`)
  ).json()) as { items: { at: string }[] };
  // The browser's zone is the test's (UTC here or not): the time is the local 09:30 it was given.
  assert.equal(listed.items[0]!.at, new Date('2026-03-01T09:30').toISOString());

  // Edited: the title changes in place.
  await updates.getByTestId('status-update-edit').first().click();
  await updates.getByTestId('status-update-title').fill('Checkout errors (payment provider)');
  await updates.getByTestId('status-update-publish').click();
  await updates
    .locator('[data-testid="status-update-row"]')
    .filter({ hasText: 'Checkout errors (payment provider)' })
    .waitFor();

  // The page is edited too: dark, and reopened it shows what was saved.
  await row.getByTestId('status-page-edit').click();
  await page.getByTestId('status-page-theme').selectOption('dark');
  await page.getByTestId('status-page-save').click();
  await page.getByTestId('status-page-form').waitFor({ state: 'detached' });
  await row.getByTestId('status-page-edit').click();
  assert.equal(await page.getByTestId('status-page-theme').inputValue(), 'dark');
  assert.equal(await page.getByTestId('status-page-groups').inputValue(), 'Shop: shop\nBackends: #web');
  await page.close();
});

/** What a visitor without a token sees of /status/acme. */
async function assertPublicPage(page: Page): Promise<void> {
  const response = await page.goto(`${beacon.url}/status/acme`);
  assert.equal(response?.status(), 200);
  assert.equal(await page.locator('h1').innerText(), 'Acme status');
  assert.match(await page.locator('#overall').innerText(), /Some systems are down/);
  const shop = page.locator('section.target').filter({ hasText: 'The shop' }).first();
  const api = page.locator('section.target').filter({ hasText: 'The api' }).first();
  assert.equal(await shop.locator('.state').innerText(), 'Operational');
  assert.equal(await api.locator('.state').innerText(), 'Outage');
  assert.equal(await shop.locator('ol.bars > li').count(), 90);
  // Five days ago the shop was up 95%: its bar is yellow-or-red and its title says so.
  const fiveAgo = shop.locator('ol.bars > li').nth(89 - 5);
  assert.match((await fiveAgo.getAttribute('title'))!, /: 95% up \(1440 checks\), no incidents/);
  assert.match((await fiveAgo.getAttribute('class'))!, /d-(warn|bad)/);
  // Today the api has an open incident: its last bar names it.
  assert.match(
    (await api.locator('ol.bars > li').last().getAttribute('title'))!,
    /1 incident:\nstatus in eu/,
  );
  assert.match(await page.locator('.incident').first().innerText(), /The api/);
  const update = page.locator('article.update').first();
  assert.match(await update.innerText(), /Identified\s*Checkout errors \(payment provider\)/);
  assert.equal(await update.locator('strong').innerText(), 'payment');
  assert.equal(await update.locator('a').getAttribute('href'), 'https://example.com/x');
  assert.ok(!(await page.content()).includes('private.example'), 'target URLs stay private');
  assert.equal(await page.locator('body').getAttribute('class'), 'dark');
}

test('the public page, without a token, shows states, 90 day bars and the update; hovering a bar marks it and its title tells the day', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await assertPublicPage(page);
  // Hovering a bar marks it (CSS, no script) and the browser shows its title: the day's uptime.
  const bar = page.locator('section.target ol.bars > li').nth(84);
  await bar.hover();
  assert.match(await bar.evaluate((el) => getComputedStyle(el).outlineStyle), /solid/);
  assert.match((await bar.getAttribute('title'))!, /95% up/);
  await context.close();
});

test('with JavaScript disabled the public page reads the same', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await assertPublicPage(page);
  await context.close();
});

test('the dashboard deletes an update and then the page, which is gone from the public too', async () => {
  const page = await signedIn('/status-pages');
  page.on('dialog', (dialog) => void dialog.accept());
  const row = page.locator('[data-testid="status-page-row"]').filter({ hasText: 'Acme status' });
  await row.getByTestId('status-page-updates').click();
  const updates = page.getByTestId('status-updates');
  await updates.getByTestId('status-update-row').first().waitFor();
  await updates.getByTestId('status-update-delete').first().click();
  await updates.getByTestId('status-update-row').waitFor({ state: 'detached' });
  await row.getByTestId('status-page-delete').click();
  await page.getByTestId('status-pages-empty').waitFor();
  assert.equal((await fetch(`${beacon.url}/status/acme.json`)).status, 404);
  await page.close();
});
