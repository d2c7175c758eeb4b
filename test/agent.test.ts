import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.ts';

// The built ES module (npm run build) in real Chromium: how the agent queues, batches and dedupes.
const AGENT = readFileSync(new URL('../agent/dist/agent.mjs', import.meta.url));
let server: Server;
let origin: string;
let browser: Browser;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/agent.mjs') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(AGENT);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>t</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

interface Sent {
  s: string;
  e: {
    n: string;
    u: string;
    p?: Record<string, unknown>;
    m?: { a: number | string; c: string };
    a: number;
    i: string;
  }[];
}

/** A page with the agent started and a transport that records each batch in `window.sent`. */
async function agentPage(options: Record<string, unknown>, before = ''): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(origin + '/start');
  await page.addScriptTag({
    type: 'module',
    content: `${before}
      import { createAgent } from '${origin}/agent.mjs';
      window.sent = [];
      window.agent = createAgent({ site: 'st_t', endpoint: '${origin}', ...${JSON.stringify(options)} }, window,
        (body) => (window.sent.push(JSON.parse(body)), true));`,
  });
  await page.waitForFunction(() => 'agent' in window);
  return page;
}

const sent = (page: Page) => page.evaluate(() => (window as unknown as { sent: Sent[] }).sent);
const names = (batches: Sent[]) =>
  batches.flatMap((b) => b.e.map((e) => `${e.n} ${new URL(e.u).pathname}${new URL(e.u).hash}`));

test('events wait for the batch and go out together, in order, with ids and ages', async () => {
  const page = await agentPage({ delay: 600_000 });
  await page.evaluate(() => {
    const agent = (window as unknown as { agent: { track: (n: string, p?: object) => void } }).agent;
    agent.track('signup', { plan: 'pro' });
    agent.track('click');
  });
  assert.equal((await sent(page)).length, 0, 'nothing is sent while the batch is open');
  await page.evaluate(() => (window as unknown as { agent: { flush: () => void } }).agent.flush());
  const batches = await sent(page);
  assert.equal(batches.length, 1);
  assert.deepEqual(names(batches), ['pageview /start', 'signup /start', 'click /start']);
  assert.deepEqual(batches[0]!.e[1]!.p, { plan: 'pro' });
  assert.equal(new Set(batches[0]!.e.map((e) => e.i)).size, 3);
  assert.ok(batches[0]!.e.every((e) => e.a >= 0));
  await page.close();
});

test('a custom event carries its revenue as m: amount and currency, as given', async () => {
  const page = await agentPage({ delay: 600_000, auto: false });
  await page.evaluate(() => {
    const agent = (
      window as unknown as {
        agent: { track: (n: string, p?: object, r?: object) => void; flush: () => void };
      }
    ).agent;
    agent.track('purchase', { plan: 'pro' }, { amount: 49.9, currency: 'EUR' });
    agent.track('refund', undefined, { amount: '-10.00', currency: 'USD' });
    agent.flush();
  });
  const [batch] = await sent(page);
  assert.deepEqual(
    batch!.e.map((e) => [e.n, e.m]),
    [
      ['purchase', { a: 49.9, c: 'EUR' }],
      ['refund', { a: '-10.00', c: 'USD' }],
    ],
  );
  await page.close();
});

test('the batch timer sends on its own', async () => {
  const page = await agentPage({ delay: 10 });
  await page.waitForFunction(() => (window as unknown as { sent: Sent[] }).sent.length > 0);
  assert.deepEqual(names(await sent(page)), ['pageview /start']);
  await page.close();
});

test('twenty queued events flush at once; pagehide and a hidden tab flush the rest', async () => {
  const page = await agentPage({ delay: 600_000, auto: false });
  await page.evaluate(() => {
    const agent = (window as unknown as { agent: { track: (n: string) => void } }).agent;
    for (let i = 0; i < 21; i++) agent.track(`e${i}`);
  });
  assert.deepEqual(
    (await sent(page)).map((b) => b.e.length),
    [20],
  );
  await page.evaluate(() => window.dispatchEvent(new Event('pagehide')));
  assert.deepEqual(
    (await sent(page)).map((b) => b.e.length),
    [20, 1],
  );
  await page.evaluate(() => {
    (window as unknown as { agent: { track: (n: string) => void } }).agent.track('late');
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  assert.deepEqual(names(await sent(page)).at(-1), 'late /start');
  await page.close();
});

test('SPA navigation: one page view per distinct page, hash routes count, anchors do not', async () => {
  const page = await agentPage({ delay: 600_000 });
  await page.evaluate(() => {
    history.pushState({}, '', '/a');
    history.pushState({}, '', '/a');
    history.replaceState({}, '', '/a');
    history.pushState({}, '', '/b');
    location.hash = '#section';
  });
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
  await page.evaluate(() => {
    location.hash = '#/settings';
  });
  await page.waitForFunction(() => location.hash === '#/settings');
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
  await page.goBack();
  await page.evaluate(() => (window as unknown as { agent: { flush: () => void } }).agent.flush());
  assert.deepEqual(names(await sent(page)), [
    'pageview /start',
    'pageview /a',
    'pageview /b',
    'pageview /b#/settings',
    'pageview /b#section',
  ]);
  await page.close();
});

test('with respectDnt, a browser sending Do Not Track or GPC sends nothing', async () => {
  for (const flag of [
    "Object.defineProperty(navigator, 'doNotTrack', { value: '1' });",
    "Object.defineProperty(navigator, 'globalPrivacyControl', { value: true });",
  ]) {
    const page = await agentPage({ respectDnt: true, delay: 10 }, flag);
    await page.evaluate(() => {
      (window as unknown as { agent: { track: (n: string) => void; flush: () => void } }).agent.track('x');
      (window as unknown as { agent: { flush: () => void } }).agent.flush();
    });
    assert.deepEqual(await sent(page), []);
    await page.close();
  }
  const page = await agentPage(
    { delay: 10 },
    "Object.defineProperty(navigator, 'doNotTrack', { value: '1' });",
  );
  await page.evaluate(() => (window as unknown as { agent: { flush: () => void } }).agent.flush());
  assert.equal((await sent(page)).length, 1, 'without the option, DNT does not stop the agent');
  await page.close();
});
