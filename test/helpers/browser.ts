import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_TOKEN } from './server.ts';

/** Debian's Chromium, installed by scripts/install-deps; nothing is downloaded at run time. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium with the flags a closed network needs (no background fetches). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * A new page of `browser` signed in to the dashboard at `base` (the token is kept in localStorage,
 * set from a page of the same origin) and opened at `path`.
 */
export async function signedIn(
  browser: Browser,
  base: string,
  path: string,
  options: { token?: string; acceptDownloads?: boolean } = {},
): Promise<Page> {
  const page = await browser.newPage(options.acceptDownloads ? { acceptDownloads: true } : {});
  await page.goto(base + '/live');
  await page.evaluate((token) => localStorage.setItem('beacon.token', token), options.token ?? ADMIN_TOKEN);
  await page.goto(base + path);
  return page;
}
