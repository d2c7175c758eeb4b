import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { reprocess } from '../src/analytics/reprocess.ts';
import { formatLocal, toLocal } from '../src/analytics/time-zone.ts';
import { CHROME_UA, createSite, query } from './helpers/analytics.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ZONE = 'Pacific/Auckland';

let beacon: TestBeacon;
before(async () => {
  beacon = await startTestBeacon({ 'analytics.addressPerSecond': 0 });
});
after(async () => {
  await beacon?.destroy();
});

/** Page views from `visitors` distinct browsers (one UA each), three pages each, with a signup from every third. */
async function visit(site: string, visitors: number, tag: string): Promise<number> {
  let events = 0;
  for (let v = 0; v < visitors; v++) {
    const e = [
      { n: 'pageview', u: 'https://re.example/', r: v % 2 ? 'https://www.google.com/' : '' },
      { n: 'pageview', u: 'https://re.example/pricing' },
      { n: 'pageview', u: `https://re.example/docs/${v % 3}` },
      ...(v % 3 === 0 ? [{ n: 'signup', u: 'https://re.example/pricing', p: { plan: 'pro' } }] : []),
    ];
    const res = await fetch(beacon.url + '/v1/collect', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': `${CHROME_UA} ${tag}-${v}` },
      body: JSON.stringify({ s: site, e }),
    });
    assert.equal(res.status, 202);
    events += e.length;
  }
  return events;
}

/** The dashboard's figures: totals, top pages, sources, events and the hourly chart. */
async function dashboard(site: string) {
  const q = (body: object) => query(beacon, site, { dateRange: 'day', ...body }).then((r) => r.body.results);
  return {
    totals: await q({
      metrics: ['visitors', 'visits', 'pageviews', 'events', 'bounce_rate', 'visit_duration'],
    }),
    pages: await q({ metrics: ['visitors', 'pageviews'], dimensions: ['event:page'] }),
    sources: await q({ metrics: ['visitors', 'visits'], dimensions: ['visit:source'] }),
    exits: await q({ metrics: ['visits'], dimensions: ['visit:exit_page'] }),
    goals: await q({ metrics: ['visitors', 'events'], dimensions: ['event:name'] }),
    chart: await q({ metrics: ['visitors', 'pageviews'], interval: 'hour' }),
  };
}

async function settled(site: string, events: number): Promise<void> {
  await eventually(
    async () =>
      beacon.store.analytics.countEvents('default', site).then((n) => (n === events ? true : undefined)),
    60_000,
    `${events} events projected`,
  );
}

test('reprocess rebuilds the same numbers, twice, while ingest goes on, and never counts twice', async () => {
  const site = await createSite(beacon, { domain: 're.example', timezone: ZONE });
  const today = formatLocal(toLocal(Date.now(), ZONE), false);
  let sent = await visit(site, 30, 'a');
  await settled(site, sent);
  const before = await dashboard(site);
  assert.equal(before.totals[0]!.metrics[2], 90);

  // A processing bug: rollups that over-count. Reprocessing must repair it from the log.
  await beacon.store.transaction((tx) =>
    tx.analytics.addRollups('default', site, [
      {
        grain: 'day',
        bucket: Date.parse(`${today}T00:00:00Z`),
        dim: '',
        value: '',
        counters: { visitors: 7, visits: 7, pageviews: 700, events: 0, bounces: 0, duration: 0 },
      },
    ]),
  );
  assert.notDeepEqual((await dashboard(site)).totals, before.totals);

  // The CLI, in its own process, against the running server's files, while more visits arrive.
  const [cli, more] = await Promise.all([
    run(process.execPath, [
      MAIN,
      'reprocess',
      '--data-dir',
      beacon.dataDir,
      '--site',
      site,
      '--from',
      today,
      '--to',
      today,
    ]),
    visit(site, 12, 'b'),
  ]);
  sent += more;
  assert.match(cli.stdout, /reprocessed \d+ events over 1 days/);
  assert.match(cli.stderr, /reading the log: .* records/);
  assert.match(cli.stderr, new RegExp(`rebuilt ${today}: \\d+ events \\(1/1 days\\)`));
  await settled(site, sent);
  const after = await dashboard(site);
  assert.equal(after.totals[0]!.metrics[2], 90 + 36, 'every page view once: none lost, none doubled');
  assert.equal(after.totals[0]!.metrics[0], 42);

  // Again, in process: identical figures.
  const result = await reprocess({ log: beacon.log, store: beacon.store, site, from: today, to: today });
  assert.equal(result.events, sent);
  assert.deepEqual(await dashboard(site), after);
  await reprocess({ log: beacon.log, store: beacon.store, site, from: today, to: today });
  assert.deepEqual(await dashboard(site), after);

  // The rebuilt figures are those a clean projection of the same events gives.
  const fresh = await createSite(beacon, { domain: 're.example', timezone: ZONE });
  const total = (await visit(fresh, 30, 'a')) + (await visit(fresh, 12, 'b'));
  await eventually(
    async () => ((await beacon.store.analytics.countEvents('default', fresh)) === total ? true : undefined),
    60_000,
    'clean projection',
  );
  const clean = await dashboard(fresh);
  assert.deepEqual({ ...after, chart: null }, { ...clean, chart: null });
});

test('reprocess refuses an unknown site and bad dates with a coded error', async () => {
  await assert.rejects(
    reprocess({
      log: beacon.log,
      store: beacon.store,
      site: 'st_none',
      from: '2026-01-01',
      to: '2026-01-01',
    }),
    {
      code: 'SITE_UNKNOWN',
    },
  );
  const site = await createSite(beacon, { domain: 'x.example' });
  await assert.rejects(
    reprocess({ log: beacon.log, store: beacon.store, site, from: '2026-01-02', to: '2026-01-01' }),
    {
      code: 'VALIDATION_FAILED',
    },
  );
});
