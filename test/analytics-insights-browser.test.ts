// The analytics dashboard in real headless Chromium: goals made in the site's settings and their
// conversions and revenue on the overview, a filter saved as a segment, a funnel, journeys with their
// flow chart, retention cohorts, an import with its progress, email reports, and a shared link opened
// without signing in, behind its password, until it is revoked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.ts';
import { CHROME_UA, createSite, query, settledZone } from './helpers/analytics.ts';
import { ADMIN_TOKEN, eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

const FIREFOX_UA = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const PLAUSIBLE = fileURLToPath(new URL('./fixtures/imports/plausible/', import.meta.url));

let beacon: TestBeacon;
let browser: Browser;
let site: string;

async function collect(ua: string, events: unknown[]): Promise<void> {
  const res = await fetch(beacon.url + '/v1/collect', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': ua },
    body: JSON.stringify({ s: site, e: events }),
  });
  assert.equal(res.status, 202);
}
const e = (path: string, age: number, extra: Record<string, unknown> = {}) => ({
  n: 'pageview',
  u: `https://shop.example${path}`,
  a: age,
  ...extra,
});

before(async () => {
  beacon = await startTestBeacon({ 'analytics.addressPerSecond': 0, 'analytics.workerPollMs': 200 });
  browser = await launchChromium();
  site = await createSite(beacon, {
    domain: 'shop.example',
    currency: 'EUR',
    saltRotation: 'monthly',
    timezone: settledZone(),
  });
  await collect(CHROME_UA, [
    e('/', 600_000),
    e('/pricing', 540_000),
    e('/checkout', 300_000, { n: 'purchase', m: { a: '49.90', c: 'EUR' } }),
  ]);
  await collect(FIREFOX_UA, [e('/', 400_000), e('/pricing', 370_000), e('/docs', 100_000)]);
  await eventually(
    async () =>
      (await query(beacon, site, { metrics: ['pageviews'], dateRange: 'day' })).body.results[0]
        ?.metrics[0] === 5
        ? true
        : undefined,
    60_000,
    'the page views',
  );
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
});

/** The site's dashboard, signed in as the admin. */
async function dashboard(): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${beacon.url}/analytics?site=${site}`);
  await page.evaluate((token) => localStorage.setItem('beacon.token', token), ADMIN_TOKEN);
  await page.reload();
  await page.getByTestId('analytics-pageviews').filter({ hasText: /^5$/ }).waitFor({ timeout: 30_000 });
  return page;
}

test('goals, a saved segment, a funnel, journeys and retention on the dashboard', async () => {
  const page = await dashboard();
  await page.getByTestId('tab-settings').click();
  for (const [name, kind, value] of [
    ['Pricing', 'page', '/pricing'],
    ['Purchase', 'event', 'purchase'],
  ] as const) {
    await page.getByTestId('goal-name').fill(name);
    await page.getByTestId('goal-kind').selectOption(kind);
    await page.getByTestId('goal-value').fill(value);
    await page.getByTestId('goal-create').click();
    await page.getByTestId('goal-item').filter({ hasText: name }).waitFor();
  }

  await page.getByTestId('tab-overview').click();
  const purchase = page.getByTestId('goal-row').filter({ hasText: 'Purchase' });
  await purchase.waitFor({ timeout: 30_000 });
  assert.deepEqual(
    (await purchase.locator('td').allInnerTexts()).map((t) => t.trim()),
    ['Purchase', '1', '50%', '1', '49.90', '49.90', '24.95'],
  );
  assert.match(await page.getByTestId('goal-row').filter({ hasText: 'Pricing' }).innerText(), /2\s+100%/);

  // A click on a top page filters by it; the filters are saved as a segment and picked again.
  await page.getByTestId('top-event:page').getByRole('button', { name: '/docs' }).click();
  await page.getByTestId('filter-chip').filter({ hasText: 'event:page is /docs' }).waitFor();
  await page.getByTestId('analytics-visitors').filter({ hasText: /^1$/ }).waitFor();
  await page.getByTestId('segment-name').fill('Docs readers');
  await page.getByTestId('segment-save').click();
  await page
    .getByTestId('segment-pick')
    .locator('option', { hasText: 'Docs readers' })
    .waitFor({ state: 'attached' });
  await page.getByTestId('filter-chip').getByRole('button').click();
  await page.getByTestId('analytics-visitors').filter({ hasText: /^2$/ }).waitFor();

  await page.getByTestId('tab-funnels').click();
  await page.getByTestId('funnel-step-0').fill('/');
  await page.getByTestId('funnel-step-1').fill('Pricing');
  await page.getByTestId('funnel-add').click();
  await page.getByTestId('funnel-step-2').fill('Purchase');
  await page.getByTestId('funnel-run').click();
  await page.getByTestId('funnel-result').nth(2).waitFor();
  assert.deepEqual(await page.getByTestId('funnel-visitors').allInnerTexts(), [
    '2 visitors',
    '2 visitors',
    '1 visitors',
  ]);
  assert.match(await page.getByTestId('funnel-dropoff').nth(1).innerText(), /1 dropped off \(50%\)/);
  // The saved segment narrows the funnel to the visitor who read the docs.
  await page.getByTestId('segment-pick').selectOption({ label: 'Docs readers' });
  await page.getByTestId('funnel-run').click();
  await page.getByTestId('funnel-visitors').first().filter({ hasText: '1 visitors' }).waitFor();
  await page.getByTestId('filter-chip').getByRole('button').click();

  await page.getByTestId('tab-journeys').click();
  await page.getByTestId('journey-page').fill('/pricing');
  await page.getByTestId('journey-depth').selectOption('2');
  await page.getByTestId('journey-run').click();
  await page.getByTestId('journey-visits').filter({ hasText: '2 visits viewed /pricing' }).waitFor();
  assert.deepEqual(
    (await page.getByTestId('journey-next').getByTestId('journey-path').allInnerTexts()).map(
      (t) => t.split('\t')[0],
    ),
    ['(exit)', '/docs → (exit)'],
  );
  assert.ok(
    (await page.getByTestId('journey-flow').getByTestId('flow-node').count()) >= 4,
    'a flow chart is drawn',
  );

  await page.getByTestId('tab-retention').click();
  await page.getByTestId('retention-period').selectOption('day');
  const row = page.getByTestId('retention-row').last();
  await row.waitFor();
  assert.match(await row.innerText(), /2\s+100%/);
  assert.equal(await page.getByTestId('retention-daily-note').count(), 0, 'monthly salts: no daily warning');
  await page.context().close();
});

test('settings: salt rotation, an import with its progress, and a report that needs SMTP', async () => {
  const page = await dashboard();
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('settings-rotation').selectOption('daily');
  await page.getByTestId('settings-save').click();
  await eventually(
    async () =>
      ((await (await beacon.request(`/v1/sites/${site}`)).json()) as { saltRotation: string })
        .saltRotation === 'daily' || undefined,
    10_000,
    'the rotation saved',
  );
  await page.getByTestId('tab-retention').click();
  await page.getByTestId('retention-daily-note').waitFor();

  await page.getByTestId('tab-settings').click();
  await page.getByTestId('import-source').selectOption('plausible');
  await page
    .getByTestId('import-files')
    .setInputFiles(
      ['imported_visitors_20261001_20261002.csv', 'imported_pages_20261001_20261002.csv'].map(
        (f) => PLAUSIBLE + f,
      ),
    );
  await page.getByTestId('import-upload').click();
  const item = page.locator('[data-testid="import-item"][data-status="completed"]');
  await item.waitFor({ timeout: 30_000 });
  assert.match(await item.getByTestId('import-progress').innerText(), /completed · 2026-10-01 to 2026-10-02/);

  await page.getByTestId('report-recipients').fill('owner@example.com, team@example.com');
  await page.getByTestId('report-create').click();
  await page.getByTestId('report-item').waitFor();
  assert.match(
    await page.getByTestId('report-item').innerText(),
    /weekly\s+to owner@example\.com, team@example\.com/,
  );
  await page.getByTestId('report-send').click();
  await page.getByTestId('settings-reports-problem').filter({ hasText: /SMTP/ }).waitFor();

  await page.getByTestId('import-delete').click();
  await page.getByTestId('import-item').waitFor({ state: 'detached' });
  await beacon.request(`/v1/sites/${site}`, { method: 'PATCH', json: { saltRotation: 'monthly' } });
  await page.context().close();
});

test('a shared link opens without signing in, behind its password, read-only, until revoked', async () => {
  const page = await dashboard();
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('link-name').fill('Investors');
  await page.getByTestId('link-password').fill('correct horse');
  await page.getByTestId('link-create').click();
  const url = await page.getByTestId('link-url').innerText();
  assert.match(url, /\/share#shr_/);
  await page.context().close();

  const visitor = await browser.newContext();
  const shared = await visitor.newPage();
  await shared.goto(url);
  await shared.getByTestId('shared-domain').filter({ hasText: 'shop.example' }).waitFor();
  await shared.getByTestId('shared-password').fill('wrong horse');
  await shared.getByTestId('shared-unlock-submit').click();
  await shared
    .getByTestId('shared-problem')
    .filter({ hasText: /Wrong password/ })
    .waitFor();
  await shared.getByTestId('shared-password').fill('correct horse');
  await shared.getByTestId('shared-unlock-submit').click();
  await shared.getByTestId('analytics-pageviews').filter({ hasText: /^5$/ }).waitFor({ timeout: 30_000 });
  assert.equal(await shared.getByTestId('tab-settings').count(), 0, 'no settings through a link');
  assert.equal(await shared.getByTestId('segment-save').count(), 0);
  assert.equal(await shared.evaluate(() => localStorage.getItem('beacon.token')), null, 'nobody signed in');
  await shared.getByTestId('tab-funnels').click();
  await shared.getByTestId('funnel-step-0').fill('/');
  await shared.getByTestId('funnel-step-1').fill('/pricing');
  await shared.getByTestId('funnel-run').click();
  await shared.getByTestId('funnel-result').nth(1).waitFor();

  const links = (await (await beacon.request(`/v1/sites/${site}/shared-links`)).json()) as {
    items: { id: string }[];
  };
  for (const link of links.items)
    await beacon.request(`/v1/sites/${site}/shared-links/${link.id}`, { method: 'DELETE' });
  await shared.reload();
  await shared
    .getByTestId('shared-problem')
    .filter({ hasText: /revoked|No such shared link/ })
    .waitFor();
  await visitor.close();
});
