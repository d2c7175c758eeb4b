import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from './helpers/browser.ts';
import { cross, model } from './helpers/occupancy.ts';
import { ADMIN_TOKEN, startTestBeacon, type TestBeacon } from './helpers/server.ts';

let beacon: TestBeacon;
let browser: Browser;
before(async () => {
  beacon = await startTestBeacon({ 'occupancy.resetTime': '' });
  browser = await launchChromium();
  await model(beacon, {
    spaces: [
      { id: 'hq', name: 'Headquarters' },
      { id: 'lab', name: 'Lab', parent: 'hq' },
    ],
    doorways: [
      { id: 'front', a: 'hq', b: null },
      { id: 'lab-door', a: 'lab', b: 'hq' },
    ],
    sensors: ['front-s', 'lab-s'],
    placements: [
      { sensor: 'front-s', doorway: 'front', positive: 'a', from: '2026-01-01T00:00:00.000Z' },
      { sensor: 'lab-s', doorway: 'lab-door', positive: 'a', from: '2026-01-01T00:00:00.000Z' },
    ],
  });
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
});

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

test('/occupancy: the space hierarchy updates live, and a space’s day chart marks a late event', async () => {
  const page = await browser.newPage();
  await page.goto(beacon.url + '/occupancy');
  await page.getByTestId('signin-token').fill(ADMIN_TOKEN);
  await page.getByTestId('signin-submit').click();
  await page
    .getByTestId('occupancy-status')
    .filter({ hasText: /^live$/ })
    .waitFor({ timeout: 15_000 });
  const countOf = (space: string) =>
    page.locator(`[data-testid="space-row"][data-space="${space}"] [data-testid="space-count"]`);
  await countOf('lab').filter({ hasText: /^0$/ }).waitFor({ timeout: 10_000 });
  // The lab is shown inside the building.
  assert.equal(await page.locator('[data-space="hq"] + ul [data-space="lab"]').count(), 1);

  await cross(beacon, [
    { sensor: 'front-s', ts: ago(3000), direction: 1 },
    { sensor: 'front-s', ts: ago(2000), direction: 1 },
    { sensor: 'lab-s', ts: ago(1000), direction: 1 },
  ]);
  await countOf('hq').filter({ hasText: /^2$/ }).waitFor({ timeout: 10_000 });
  await countOf('lab').filter({ hasText: /^1$/ }).waitFor({ timeout: 10_000 });

  await page.getByRole('link', { name: 'Lab' }).click();
  await page.getByTestId('space-live-count').filter({ hasText: /^1$/ }).waitFor({ timeout: 10_000 });
  await page.locator('[data-testid="day-chart"] canvas').waitFor({ timeout: 10_000 });
  assert.equal(await page.getByTestId('late-marker').count(), 0);

  // A crossing from 90 s ago arrives now: the count goes up and the chart marks where history changed.
  await cross(beacon, [{ sensor: 'lab-s', ts: ago(90_000), direction: 1 }]);
  await page.getByTestId('space-live-count').filter({ hasText: /^2$/ }).waitFor({ timeout: 10_000 });
  await page.getByTestId('late-marker').first().waitFor({ timeout: 10_000 });
  await page.close();
});
