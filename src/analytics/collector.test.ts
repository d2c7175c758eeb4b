import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Ingest, Signal } from '../ingest/ingest.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Site } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';
import { Collector, type Sender } from './collector.ts';
import { CollectMetrics } from './metrics.ts';
import type { PageviewBody } from './projection.ts';
import { SiteDirectory } from './site-directory.ts';
import { saltPeriod, visitorId, visitorSalt } from './visitor.ts';
import { sampleSite } from '../../test/helpers/sites.ts';

const dailySalt = (secret: string, ts: number) => visitorSalt(secret, saltPeriod('daily', ts));

const SITE = sampleSite();
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const sender: Sender = {
  address: '203.0.113.9',
  userAgent: UA,
  origin: undefined,
  optedOut: false,
  transport: 'http',
};

function collector(sites: Map<string, Site>) {
  const appended: Signal[] = [];
  const reader = { site: (id: string) => Promise.resolve(sites.get(id)) } as unknown as AnalyticsReader;
  const ingest = {
    accept: (_stream: string, signals: Signal[]) => {
      appended.push(...signals);
      return Promise.resolve([]);
    },
  } as unknown as Ingest;
  const directory = new SiteDirectory(reader);
  const c = new Collector({
    sites: directory,
    ingest,
    secret: 's3cret',
    metrics: new CollectMetrics({ registry: new Registry() } as unknown as Metrics),
    limits: { sitePerSecond: 0, siteBurst: 1, addressPerSecond: 0, addressBurst: 1 },
  });
  return { c, appended, directory };
}

const event = (url: string, ageMs = 0) => ({
  name: 'pageview',
  url,
  referrer: '',
  props: {},
  ageMs,
  id: undefined,
  revenue: undefined,
});

test('events of one request share the visitor id of their UTC day, also across midnight', async (t) => {
  const now = Date.UTC(2026, 10, 23, 0, 0, 30);
  t.mock.timers.enable({ apis: ['Date'], now });
  const { c, appended } = collector(new Map([[SITE.id, SITE]]));
  const result = await c.collect(
    {
      site: SITE.id,
      events: [
        event('https://a.example/1'),
        event('https://a.example/2'),
        event('https://b.example/', 60_000),
      ],
    },
    sender,
  );
  assert.deepEqual(result, { accepted: 3, ignored: 0 });
  const visitors = appended.map((s) => (s.body as PageviewBody).visitor);
  const today = visitorId(dailySalt('s3cret', now), SITE.id, sender.address, UA);
  const yesterday = visitorId(dailySalt('s3cret', now - 60_000), SITE.id, sender.address, UA);
  assert.notEqual(today, yesterday);
  assert.deepEqual(visitors, [today, today, yesterday]);
});

test('every event host is checked, not only the first of each', async () => {
  const { c, appended } = collector(new Map([[SITE.id, SITE]]));
  await assert.rejects(
    c.collect(
      { site: SITE.id, events: [event('https://a.example/'), event('https://evil.example/')] },
      sender,
    ),
    { code: 'SITE_DOMAIN_DENIED' },
  );
  assert.equal(appended.length, 0);
});

test('bots are ignored, and the answer for a user agent does not change when it repeats', async () => {
  const { c, appended } = collector(new Map([[SITE.id, SITE]]));
  const bot = {
    ...sender,
    userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  };
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(await c.collect({ site: SITE.id, events: [event('https://a.example/')] }, bot), {
      accepted: 0,
      ignored: 1,
    });
    assert.deepEqual(await c.collect({ site: SITE.id, events: [event('https://a.example/')] }, sender), {
      accepted: 1,
      ignored: 0,
    });
  }
  assert.equal(appended.length, 2);
});

test('a site forgotten by the directory after its deletion is refused at once', async () => {
  const sites = new Map([[SITE.id, SITE]]);
  const { c, directory } = collector(sites);
  await c.collect({ site: SITE.id, events: [event('https://a.example/')] }, sender);
  sites.delete(SITE.id);
  directory.forget(SITE.id);
  await assert.rejects(c.collect({ site: SITE.id, events: [event('https://a.example/')] }, sender), {
    code: 'SITE_UNKNOWN',
  });
});

test('a site with monthly salts keeps one visitor id across days of a UTC month, not across months', async (t) => {
  const monthly = sampleSite({ saltRotation: 'monthly' });
  const { c, appended } = collector(new Map([[monthly.id, monthly]]));
  const times = [Date.UTC(2026, 10, 2, 9), Date.UTC(2026, 10, 29, 18), Date.UTC(2026, 11, 1, 8)];
  for (const now of times) {
    t.mock.timers.enable({ apis: ['Date'], now });
    await c.collect({ site: monthly.id, events: [event('https://a.example/')] }, sender);
    t.mock.timers.reset();
  }
  const [november, lateNovember, december] = appended.map((s) => (s.body as PageviewBody).visitor);
  assert.equal(november, lateNovember);
  assert.notEqual(november, december);
  assert.notEqual(november, visitorId(dailySalt('s3cret', times[0]!), monthly.id, sender.address, UA));
});

test('revenue reaches the record as a canonical decimal and currency', async () => {
  const { c, appended } = collector(new Map([[SITE.id, SITE]]));
  await c.collect(
    {
      site: SITE.id,
      events: [
        { ...event('https://a.example/buy'), name: 'purchase', revenue: { milli: 10290, currency: 'EUR' } },
      ],
    },
    sender,
  );
  assert.deepEqual((appended[0]!.body as PageviewBody).revenue, { amount: '10.29', currency: 'EUR' });
});
