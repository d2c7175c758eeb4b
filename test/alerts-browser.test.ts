// The alerting pages in real Chromium: the settings page adds a channel, sends it a test, adds a rule
// and a maintenance window, and deletes the channel; a target page shows its kind, assertions,
// notifications and maintenance windows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signedIn as signedInAt } from './helpers/browser.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

let farm: TargetFarm;
let beacon: TestBeacon;
let browser: Browser;
let hook: Receiver;

before(async () => {
  farm = await startFarm({ tls: false });
  hook = await startReceiver(() => ({ status: 204 }));
  beacon = await startTestBeacon({ 'monitor.refreshMs': 200, 'notify.pollMs': 100 });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
  await farm?.close();
  await hook?.close();
});

const signedIn = (path: string): Promise<Page> => signedInAt(browser, beacon.url, path);

test('the settings page adds a channel, sends a test, adds a rule and a window, and deletes the channel', async () => {
  const page = await signedIn('/settings');
  await page.getByTestId('channel-name').fill('Ops hook');
  await page.getByTestId('channel-url').fill(`json://ops:s3cret-pass@127.0.0.1:${hook.port}/hook`);
  await page.getByTestId('channel-add').click();
  const row = page.locator('[data-testid="channel-row"]').filter({ hasText: 'Ops hook' });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /webhook · POST http:\/\/127\.0\.0\.1:\d+\/…/);
  assert.doesNotMatch(await page.content(), /s3cret-pass/, 'the secret is not on the page once saved');

  await row.getByTestId('channel-test').click();
  await row.getByTestId('channel-test-result').filter({ hasText: 'Sent (204)' }).waitFor();
  const sent = hook.received.at(-1)!;
  assert.equal((sent.json as { items: { event: string }[] }).items[0]!.event, 'test');

  // A bad URL is refused with the provider's reason.
  await page.getByTestId('channel-name').fill('Broken');
  await page.getByTestId('channel-url').fill('slack://only-one');
  await page.getByTestId('channel-add').click();
  await page.getByTestId('channel-problem').filter({ hasText: 'TokenA/TokenB/TokenC' }).waitFor();

  await page.getByTestId('rule-name').fill('Everything');
  await page.getByTestId('rule-channel').first().check();
  await page.getByTestId('rule-add').click();
  await page.locator('[data-testid="rule-row"]').filter({ hasText: 'Everything' }).waitFor();
  assert.match(await page.getByTestId('rule-list').innerText(), /every target → /);

  await page.getByTestId('window-title').fill('Database upgrade');
  await page.getByTestId('window-tags').fill('db');
  await page.getByTestId('window-add').click();
  const window = page.locator('[data-testid="window-row"]').filter({ hasText: 'Database upgrade' });
  await window.waitFor();
  await window.getByTestId('window-active').waitFor();

  await page.getByTestId('window-recurring').check();
  await page.getByTestId('window-title').fill('Sunday deploys');
  await page.getByTestId('window-rrule').fill('FREQ=WEEKLY;BYDAY=SU');
  await page.getByTestId('window-duration').fill('90');
  await page.getByTestId('window-zone').fill('Europe/Berlin');
  await page.getByTestId('window-add').click();
  await page
    .locator('[data-testid="window-row"]')
    .filter({ hasText: 'FREQ=WEEKLY;BYDAY=SU for 90 min' })
    .waitFor();
  await page.getByTestId('window-title').fill('Now and then');
  await page.getByTestId('window-rrule').fill('FREQ=SOMETIMES');
  await page.getByTestId('window-add').click();
  await page.getByTestId('window-problem').filter({ hasText: 'rrule' }).waitFor();

  // The rule still names the channel; deleting it leaves the rule skipping it.
  await row.getByTestId('channel-delete').click();
  await row.waitFor({ state: 'detached' });
  assert.equal((await beacon.request('/v1/channels')).status, 200);
  const channels = (await (await beacon.request('/v1/channels')).json()) as { items: unknown[] };
  assert.equal(channels.items.length, 0);
  await page.close();
});

test('a target page shows its kind, assertions, notifications and maintenance windows', async () => {
  const post = async (path: string, body: unknown) =>
    assert.equal((await beacon.request(path, { method: 'POST', json: body })).status, 201);
  await post('/v1/channels', { id: 'pager', name: 'Pager', url: `json://127.0.0.1:${hook.port}/pager` });
  await post('/v1/alert-rules', {
    id: 'checkout',
    targets: ['checkout'],
    channels: ['pager'],
    groupWindowSeconds: 0,
  });
  // Twelve hours from now, so the window never covers this test's checks, whatever the hour of the run.
  const hour = String((new Date().getUTCHours() + 12) % 24).padStart(2, '0');
  await post('/v1/maintenance-windows', {
    id: 'nightly',
    title: 'Nightly backup',
    targets: ['checkout'],
    start: `2026-01-01T${hour}:00`,
    rrule: 'FREQ=DAILY',
    durationMinutes: 30,
    timeZone: 'UTC',
  });
  await post('/v1/targets', {
    id: 'checkout',
    name: 'Checkout API',
    url: `${farm.http}/json/failing`,
    intervalSeconds: 1,
    downAfter: 2,
    tags: ['shop'],
    assertions: [
      { type: 'json', path: '$.status', op: 'equals', value: 'ok' },
      { type: 'responseTime', op: 'lessThan', value: 2000 },
    ],
  });
  await eventually(
    () => Promise.resolve(hook.received.some((r) => r.path === '/pager') ? true : undefined),
    20_000,
    'the down notification',
  );
  const page = await signedIn('/uptime?target=checkout');
  await page.getByTestId('target-title').filter({ hasText: 'Checkout API' }).waitFor();
  const kind = page.getByTestId('target-kind');
  await kind.waitFor();
  assert.equal(await kind.locator('[data-fact="Kind"]').innerText(), 'http');
  assert.equal(await kind.locator('[data-fact="Tags"]').innerText(), 'shop');
  assert.deepEqual(await page.getByTestId('assertion').allInnerTexts(), [
    '$.status equals "ok"',
    'response time lessThan 2000',
  ]);
  const delivery = page.locator('[data-testid="delivery-row"][data-state="sent"]').first();
  await delivery.waitFor();
  assert.match(await delivery.innerText(), /pager[\s\S]*target\.down[\s\S]*sent[\s\S]*204/);
  const window = page.locator('[data-testid="window-row"][data-id="nightly"]');
  await window.waitFor();
  assert.match(await window.innerText(), /Nightly backup[\s\S]*FREQ=DAILY for 30 min/);
  await page.locator('[data-testid="status-history"] [data-state="down"]').first().waitFor();
  await page.close();
});
