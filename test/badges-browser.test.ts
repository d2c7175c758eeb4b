// The badges in Chromium: the badge token made in settings, a target's Badges panel whose <img>s
// load and render, and the SVG itself opened as a document, its text the expected figure.
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
  await beacon.request('/v1/targets', {
    method: 'POST',
    json: { id: 'shop', name: 'The shop', url: `${farm.http}/ok`, intervalSeconds: 1 },
  });
  await eventually(async () => {
    const res = await beacon.request('/v1/targets/shop');
    return ((await res.json()) as { state: string }).state === 'up' ? true : undefined;
  });
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
  await farm?.close();
});

const signedIn = (path: string): Promise<Page> => signedInAt(browser, beacon.url, path);

/** The visible texts of the SVG document the page shows. */
const svgTexts = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('text')]
      .filter((t) => !t.hasAttribute('aria-hidden'))
      .map((t) => t.textContent),
  );

test('a badge token made in settings opens the target’s badges, which render in <img>', async () => {
  const page = await signedIn('/settings');
  const section = page.getByTestId('badge-token');
  await section.getByTestId('badge-token-state').filter({ hasText: 'No badge token.' }).waitFor();
  await section.getByTestId('badge-token-rotate').click();
  const secret = await section.getByTestId('badge-token-secret').inputValue();
  assert.match(secret, /^bcnb_/);
  assert.match(await section.getByTestId('badge-token-state').innerText(), /^Made /);

  await page.goto(`${beacon.url}/uptime?target=shop`);
  const panel = page.getByTestId('badges');
  await panel.waitFor();
  const rows = panel.getByTestId('badge-row');
  assert.equal(await rows.count(), 7);
  const markdown = await panel.locator('[data-kind="status"] [data-testid="badge-markdown"]').inputValue();
  assert.equal(markdown, `![Status](${beacon.url}/badge/shop/status.svg?token=${secret})`);
  // Every image loaded and decoded: an SVG Chromium could not render would have no natural width.
  await page.waitForFunction(
    () => {
      const images = [...document.querySelectorAll<HTMLImageElement>('[data-testid="badge-image"]')];
      return images.length === 7 && images.every((i) => i.complete && i.naturalWidth > 0);
    },
    undefined,
    { timeout: 10_000 },
  );
  const widths = await page.$$eval('[data-testid="badge-image"]', (images) =>
    (images as HTMLImageElement[]).map((i) => i.naturalWidth),
  );
  assert.ok(
    widths.every((w) => w > 50),
    `widths ${widths.join(', ')}`,
  );

  // The badge itself, opened as a document: Chromium's SVG renderer lays out the figure.
  const svg = await browser.newPage();
  await svg.goto(`${beacon.url}/badge/shop/status.svg?token=${secret}`);
  assert.deepEqual(await svgTexts(svg), ['status', 'up']);
  await svg.goto(`${beacon.url}/badge/shop/uptime-24h.svg?token=${secret}`);
  assert.deepEqual(await svgTexts(svg), ['uptime 24h', '100.00%']);
  const box = await svg.evaluate(() => {
    const b = document.querySelector('text:not([aria-hidden])')!.parentElement!.getBoundingClientRect();
    return { width: b.width, height: b.height };
  });
  assert.ok(box.width > 50 && box.height > 5, JSON.stringify(box));
  await svg.close();

  // Revoked in settings: the panel's images no longer load.
  await page.goto(`${beacon.url}/settings`);
  await page.getByTestId('badge-token-revoke').click();
  await page.getByTestId('badge-token-state').filter({ hasText: 'No badge token.' }).waitFor();
  assert.equal((await fetch(`${beacon.url}/badge/shop/status.svg?token=${secret}`)).status, 404);
  await page.goto(`${beacon.url}/uptime?target=shop`);
  await page.getByTestId('badges-no-secret').waitFor();
  assert.match(
    await page.locator('[data-kind="cert"] [data-testid="badge-markdown"]').inputValue(),
    /token=YOUR_BADGE_TOKEN\)$/,
  );
  await page.close();
});
