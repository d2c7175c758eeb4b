import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from './helpers/browser.ts';
import { ADMIN_TOKEN, startTestBeacon, type TestBeacon } from './helpers/server.ts';

const run = promisify(execFile);

let beacon: TestBeacon;
let browser: Browser;
before(async () => {
  beacon = await startTestBeacon();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
});

test('/live: after sign-in, a message posted with curl appears on the open page', async () => {
  const page = await browser.newPage();
  await page.goto(beacon.url + '/live');
  await page.getByTestId('signin-token').fill(ADMIN_TOKEN);
  await page.getByTestId('signin-submit').click();
  await page
    .getByTestId('live-status')
    .filter({ hasText: /^live$/ })
    .waitFor({ timeout: 15_000 });

  const { stdout } = await run('curl', [
    '-sS',
    '-X',
    'POST',
    `${beacon.url}/v1/messages`,
    '-H',
    `Authorization: Bearer ${ADMIN_TOKEN}`,
    '-H',
    'Content-Type: application/json',
    '-d',
    '{"from":"curl","note":"hello browser"}',
  ]);
  const { id } = JSON.parse(stdout) as { id: string };
  const row = page.locator(`[data-testid="live-row"][data-id="${id}"]`);
  // The row and its text may reach the screen in different frames when the machine is loaded.
  await row
    .getByTestId('live-payload')
    .filter({ hasText: /hello browser/ })
    .waitFor({ timeout: 10_000 });
  await page.close();
});

test('/live: a wrong token is refused with the server’s message', async () => {
  const page = await browser.newPage();
  await page.goto(beacon.url + '/live');
  await page.getByTestId('signin-token').fill('bcn_not-a-real-token');
  await page.getByTestId('signin-submit').click();
  const error = page.getByTestId('signin-error');
  await error.waitFor({ timeout: 10_000 });
  assert.match(await error.innerText(), /not valid/i);
  await page.close();
});

test('/live: a returning visitor sees messages sent before the page opened', async () => {
  const res = await beacon.request('/v1/messages', { method: 'POST', json: { earlier: true } });
  const { id } = (await res.json()) as { id: string };
  const page = await browser.newPage();
  await page.goto(beacon.url + '/live');
  await page.evaluate((token) => localStorage.setItem('beacon.token', token), ADMIN_TOKEN);
  await page.reload();
  await page.locator(`[data-testid="live-row"][data-id="${id}"]`).waitFor({ timeout: 10_000 });
  await page
    .getByTestId('live-status')
    .filter({ hasText: /^live$/ })
    .waitFor({ timeout: 15_000 });
  await page.close();
});
