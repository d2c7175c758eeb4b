import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { ADMIN_TOKEN, eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

let farm: TargetFarm;
let beacon: TestBeacon;
let browser: Browser;
before(async () => {
  farm = await startFarm({ tls: false });
  beacon = await startTestBeacon({ 'monitor.refreshMs': 200, 'monitor.perHost': 50 });
  browser = await launchChromium();
  for (const [id, path] of [
    ['shop', '/ok'],
    ['api', '/status/503'],
  ]) {
    await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id, name: `The ${id}`, url: `${farm.http}${path}`, intervalSeconds: 1 },
    });
  }
  // Some history before the page opens.
  await eventually(async () => {
    const res = await beacon.request('/v1/targets/api/checks');
    return ((await res.json()) as { items: unknown[] }).items.length >= 2 ? true : undefined;
  });
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
  await farm?.close();
});

async function signedIn(path: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(beacon.url + '/live');
  await page.evaluate((token) => localStorage.setItem('beacon.token', token), ADMIN_TOKEN);
  await page.goto(beacon.url + path);
  return page;
}

const points = async (page: Page, selector: string) =>
  Number(await page.locator(selector).first().getAttribute('data-points'));

test('/uptime lists targets with state, uptime and a sparkline that grows live', async () => {
  const page = await signedIn('/uptime');
  const shop = page.locator('[data-testid="target-row"][data-id="shop"]');
  const api = page.locator('[data-testid="target-row"][data-id="api"]');
  await shop.waitFor({ timeout: 10_000 });
  assert.match(await shop.getByTestId('target-state').innerText(), /up/);
  assert.match(await api.getByTestId('target-state').innerText(), /down/);
  assert.equal(await shop.getByTestId('target-uptime-24h').innerText(), '100%');
  assert.equal(await api.getByTestId('target-uptime-24h').innerText(), '0.00%');
  await page.locator('[data-testid="target-row"][data-id="shop"] [data-testid="sparkline"] canvas').waitFor();
  const before = await points(page, '[data-testid="target-row"][data-id="shop"] [data-testid="sparkline"]');
  await page.waitForFunction(
    (n) =>
      Number(
        document
          .querySelector('[data-testid="target-row"][data-id="shop"] [data-testid="sparkline"]')
          ?.getAttribute('data-points'),
      ) > n,
    before,
    { timeout: 10_000 },
  );
  await page.close();
});

test('a target page shows the phase chart, status history and incidents, and follows new checks', async () => {
  const page = await signedIn('/uptime');
  await page.locator('[data-testid="target-row"][data-id="api"] a').click();
  await page.getByTestId('target-title').filter({ hasText: 'The api' }).waitFor();
  assert.ok(page.url().endsWith('/uptime?target=api'));
  await page.locator('[data-testid="phase-chart"] canvas').waitFor();
  const cells = page.locator('[data-testid="status-history"] .status-cell--down');
  await cells.first().waitFor();
  const before = await cells.count();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="status-history"] .status-cell--down').length > n,
    before,
    { timeout: 10_000 },
  );
  const incident = page.getByTestId('incident-row').first();
  assert.match(await incident.innerText(), /ongoing[\s\S]*status/);

  await page.goBack();
  await page.locator('[data-testid="target-row"][data-id="shop"]').waitFor();
  await page.close();
});
