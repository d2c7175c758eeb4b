import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatsResult } from '../../src/analytics/query.ts';
import type { TestBeacon } from './server.ts';

/** A desktop Chrome user agent: headless Chromium's own ("HeadlessChrome") is rightly filtered as a bot. */
export const CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

/** Creates a site for the admin token's tenant (or `token`'s) and returns its id. */
export async function createSite(
  beacon: TestBeacon,
  body: Record<string, unknown>,
  token?: string,
): Promise<string> {
  const res = await beacon.request('/v1/sites', { method: 'POST', json: body, token });
  if (res.status !== 201) throw new Error(`site not created: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** Posts a stats query and returns status, headers and body. */
export async function query(
  beacon: TestBeacon,
  site: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; headers: Headers; body: StatsResult & { error?: { code: string } } }> {
  const res = await beacon.request(`/v1/sites/${site}/query`, { method: 'POST', json: body, token });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as StatsResult & { error?: { code: string } },
  };
}

/**
 * A customer's website: a tiny single-page app on its own origin (`http://localhost:PORT`) that carries the
 * agent snippet, with a pre-load queued call, and buttons that navigate with the History API.
 */
export async function startTestSite(
  beaconUrl: string,
  site: string,
  attributes = '',
): Promise<{ url: string; close: () => Promise<void> }> {
  const html = `<!doctype html><html><head><title>Shop</title>
<script>window.beacon = window.beacon || function () { (beacon.q = beacon.q || []).push(arguments) };
beacon('queued-before-load', { from: 'stub' });</script>
<script defer src="${beaconUrl}/agent.js" data-site="${site}" ${attributes}></script></head>
<body><h1 id="title">Home</h1>
<button id="about" onclick="history.pushState({}, '', '/about'); title.textContent = 'About'">About</button>
<button id="same" onclick="history.replaceState({}, '', '/about')">Same</button>
<button id="pricing" onclick="history.pushState({}, '', '/pricing?utm_campaign=x'); title.textContent = 'Pricing'">Pricing</button>
<button id="signup" onclick="beacon('signup', { plan: 'pro' })">Sign up</button>
</body></html>`;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A zone whose local day began over 70 minutes ago, so events of the last hour fall on one local day
 * ("today" and one day's rollups hold them all) whatever time the tests run: two zones 6 hours apart,
 * one of them always is. A monthly salt keeps a visitor's id across UTC midnight the same way.
 */
export function settledZone(): string {
  const minutesInto = (timeZone: string) => {
    const [h, m] = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .format(new Date())
      .split(':')
      .map(Number);
    return h! * 60 + m!;
  };
  return ['Europe/Berlin', 'America/New_York'].find((z) => minutesInto(z) >= 70)!;
}
