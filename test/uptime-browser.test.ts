import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signedIn as signedInAt } from './helpers/browser.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

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
      json: { id, name: `The ${id}`, url: `${farm.http}${path}`, intervalSeconds: 1, tags: ['web'] },
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

const signedIn = (path: string): Promise<Page> => signedInAt(browser, beacon.url, path);

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

test('a target is made through the form with a check-now preview, edited, paused, found by search, and deleted', async () => {
  const page = await signedIn('/uptime');
  await page.locator('[data-testid="target-row"][data-id="shop"]').waitFor();
  await page.getByTestId('new-target').click();
  const form = page.getByTestId('target-form');
  await form.locator('input[name="id"]').fill('form-made');
  await form.locator('input[name="url"]').fill('ftp://nowhere');
  await form.locator('input[name="intervalSeconds"]').fill('often');
  await form.getByRole('button', { name: 'Create' }).click();
  // The API's own validation, beside the fields it names: first the types…
  await form.locator('[data-field-error="intervalSeconds"]').waitFor();
  assert.match(await form.locator('[data-field-error="intervalSeconds"]').innerText(), /^intervalSeconds /);
  await form.locator('input[name="intervalSeconds"]').fill('1');
  await form.getByRole('button', { name: 'Create' }).click();
  // …then what a schema cannot say.
  await form.locator('[data-field-error="url"]').waitFor();
  assert.equal(await form.locator('[data-field-error="url"]').innerText(), 'url must be http:// or https://');
  assert.equal(await form.locator('[data-field-error="intervalSeconds"]').count(), 0);

  await form.locator('input[name="url"]').fill(`${farm.http}/text/hello+there`);
  await form.locator('input[name="intervalSeconds"]').fill('1');
  await form.locator('input[name="timeoutMs"]').fill('800');
  await form.locator('input[name="pattern"]').fill('there');
  await form.locator('input[name="tags"]').fill('made, form');
  await form.getByRole('button', { name: 'Check now' }).click();
  const preview = form.getByTestId('check-result');
  await preview.waitFor();
  assert.equal(await preview.getAttribute('data-state'), 'up');
  assert.match(await preview.innerText(), /status 200 · pattern matched/);
  assert.equal((await beacon.request('/v1/targets/form-made')).status, 404, 'check now saved nothing');

  await form.getByRole('button', { name: 'Create' }).click();
  const row = page.locator('[data-testid="target-row"][data-id="form-made"]');
  await row.waitFor();
  assert.equal(await page.getByTestId('target-form').count(), 0, 'the form closes once saved');
  await page.waitForFunction(
    () =>
      document
        .querySelector('[data-testid="target-row"][data-id="form-made"] [data-testid="target-state"]')
        ?.textContent?.includes('up'),
    undefined,
    { timeout: 10_000 },
  );

  await row.locator('[data-action="edit"]').click();
  await page.getByTestId('target-form').locator('input[name="name"]').fill('Made by the form');
  await page.getByTestId('target-form').getByRole('button', { name: 'Save' }).click();
  await row.locator('a', { hasText: 'Made by the form' }).waitFor();
  const stored = (await (await beacon.request('/v1/targets/form-made')).json()) as Record<string, unknown>;
  assert.equal(stored.name, 'Made by the form');
  assert.equal(stored.pattern, 'there', 'what the form did not change stays');

  await row.locator('[data-action="pause"]').click();
  await row.getByTestId('target-state').filter({ hasText: 'paused' }).waitFor();
  assert.equal(
    ((await (await beacon.request('/v1/targets/form-made')).json()) as { paused?: boolean }).paused,
    true,
  );

  // Search asks the server: only the matching row remains, and the total says so.
  await page.getByTestId('target-search').fill('MADE BY');
  await page
    .getByTestId('target-total')
    .filter({ hasText: /^1 targets$/ })
    .waitFor();
  assert.deepEqual(
    await page.getByTestId('target-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))),
    ['form-made'],
  );
  await page.getByTestId('filter-state').selectOption('up');
  await page.getByTestId('target-empty').waitFor();
  await page.getByTestId('filter-state').selectOption('');
  await page.getByTestId('target-search').fill('');
  await page
    .getByTestId('target-total')
    .filter({ hasText: /^3 targets$/ })
    .waitFor();

  // Clone: the form opens with its spec under a new id.
  await row.locator('[data-action="clone"]').click();
  assert.equal(
    await page.getByTestId('target-form').locator('input[name="id"]').inputValue(),
    'form-made-copy',
  );
  assert.equal(await page.getByTestId('target-form').locator('input[name="pattern"]').inputValue(), 'there');
  await page.getByTestId('target-form').getByRole('button', { name: 'Cancel' }).click();

  await row.locator('[data-action="delete"]').click();
  await row.locator('[data-action="confirm-delete"]').click();
  await row.waitFor({ state: 'detached' });
  assert.equal((await beacon.request('/v1/targets/form-made')).status, 404);
  await page.close();
});

test('bulk pause by tag, YAML import, and a windowed list that pages from the server as it scrolls', async () => {
  const page = await signedIn('/uptime');
  await page.locator('[data-testid="target-row"][data-id="shop"]').waitFor();
  await page.getByTestId('bulk-tag').fill('web');
  await page.getByTestId('bulk-action').selectOption('pause');
  await page.getByTestId('bulk-apply').click();
  assert.match(await page.getByTestId('bulk-result').innerText(), /^2 matched, 2 changed/);
  for (const id of ['shop', 'api'])
    await page
      .locator(`[data-testid="target-row"][data-id="${id}"] [data-testid="target-state"]`)
      .filter({ hasText: 'paused' })
      .waitFor();

  const many = Array.from(
    { length: 320 },
    (_, i) =>
      `  - id: many-${String(i).padStart(3, '0')}\n    url: ${farm.http}/ok\n    paused: true\n    tags: [many]\n`,
  ).join('');
  await page.getByRole('button', { name: 'Import YAML' }).click();
  await page.getByTestId('import-yaml').fill(`targets:\n  - id: broken\n    url: 42\n${many}`);
  await page.getByTestId('import-apply').click();
  assert.match(await page.getByTestId('import-error').innerText(), /targets\[0\]\.url/);
  await page.getByTestId('import-yaml').fill(`targets:\n${many}`);
  await page.getByTestId('import-apply').click();
  assert.equal(await page.getByTestId('import-result').innerText(), '320 created, 0 updated, 0 unchanged');

  await page.getByTestId('filter-tag').fill('many');
  await page
    .getByTestId('target-total')
    .filter({ hasText: /^320 targets$/ })
    .waitFor();
  const list = page.getByTestId('target-rows');
  const drawn = async () => Number(await list.getAttribute('data-drawn'));
  const loaded = async () => Number(await list.getAttribute('data-rows'));
  assert.equal(await loaded(), 100, 'one page at first');
  assert.ok((await drawn()) < 40, `only the rows in view are in the DOM (${await drawn()})`);
  assert.equal(await page.getByTestId('target-row').count(), await drawn());
  while ((await loaded()) < 320) {
    const before = await loaded();
    await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="target-rows"]')?.getAttribute('data-rows')) > n,
      before,
    );
  }
  assert.equal(await loaded(), 320, 'pages load as the list scrolls');
  await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await page.locator('[data-testid="target-row"][data-id="many-319"]').waitFor();
  assert.ok((await drawn()) < 40);
  await page.close();
});
