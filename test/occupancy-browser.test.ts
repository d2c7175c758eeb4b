import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signedIn as signedInAt } from './helpers/browser.ts';
import { call, cross, get, model } from './helpers/occupancy.ts';
import { ADMIN_TOKEN, eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

let beacon: TestBeacon;
let browser: Browser;
before(async () => {
  beacon = await startTestBeacon({
    'occupancy.resetTime': '',
    'occupancy.alertIntervalMs': 200,
    'occupancy.silentAfterMinutes': 30,
  });
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
    sensors: ['front-s', 'lab-s', 'idle-s'],
    placements: [
      { sensor: 'front-s', doorway: 'front', positive: 'a', from: '2026-01-01T00:00:00.000Z' },
      { sensor: 'lab-s', doorway: 'lab-door', positive: 'a', from: '2026-01-01T00:00:00.000Z' },
      // Watching the lab door too, and sending nothing: silent once 30 open minutes pass.
      {
        sensor: 'idle-s',
        doorway: 'lab-door',
        positive: 'a',
        from: new Date(Date.now() - 3 * 3_600_000).toISOString(),
      },
    ],
  });
});
after(async () => {
  await browser?.close();
  await beacon?.destroy();
});

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

const signedIn = (path: string): Promise<Page> =>
  signedInAt(browser, beacon.url, path, { acceptDownloads: true });

test('/occupancy: the space hierarchy updates live, and a space’s chart marks a late event', async () => {
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
  await page.locator('[data-testid="space-chart"] canvas').waitFor({ timeout: 10_000 });
  assert.equal(await page.getByTestId('space-chart').getAttribute('data-late'), '0');

  // A crossing from 90 s ago arrives now: the count goes up and the chart marks where history changed.
  await cross(beacon, [{ sensor: 'lab-s', ts: ago(90_000), direction: 1 }]);
  await page.getByTestId('space-live-count').filter({ hasText: /^2$/ }).waitFor({ timeout: 10_000 });
  await page.locator('[data-testid="space-chart"]:not([data-late="0"])').waitFor({ timeout: 10_000 });
  await page.close();
});

// Runs after the first test, on the crossings it made (two people in the headquarters).
test('a space’s page: capacity on the chart, periods, the count at a time, figures, a headcount, CSV', async () => {
  await call(beacon, 'PATCH', '/v1/spaces/hq', { capacity: 1 }, 200);
  const page = await signedIn('/occupancy?space=hq');
  const chart = page.getByTestId('space-chart');
  await page.locator('[data-testid="space-chart"] canvas').waitFor({ timeout: 10_000 });
  assert.equal(await page.getByTestId('space-capacity').textContent(), '1');
  assert.equal(await chart.getAttribute('data-capacity'), '1');
  // A day of 5-minute buckets, all recent ones provisional; then a week and a month of hours.
  assert.equal(await chart.getAttribute('data-points'), '288');
  assert.ok(Number(await chart.getAttribute('data-provisional')) > 0, 'today is provisional');
  assert.equal(await page.getByTestId('space-peak').textContent(), '2');
  assert.notEqual(await page.getByTestId('space-over-capacity').textContent(), '–');
  await page.getByTestId('space-period-week').click();
  await page.locator('[data-testid="space-chart"][data-points="168"]').waitFor({ timeout: 10_000 });
  await page.getByTestId('space-period-month').click();
  await page
    .locator(
      '[data-testid="space-chart"][data-points="672"], [data-testid="space-chart"][data-points="696"], [data-testid="space-chart"][data-points="720"], [data-testid="space-chart"][data-points="744"]',
    )
    .waitFor({
      timeout: 10_000,
    });
  await page.getByTestId('space-period-day').click();

  // The count at a time: before any crossing, then after.
  const at = (d: Date) => {
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  };
  await page.getByTestId('space-at-input').fill(at(new Date(Date.now() - 3_600_000)));
  await page.getByTestId('space-at-submit').click();
  await page
    .getByTestId('space-at-result')
    .filter({ hasText: /^0 people/ })
    .waitFor();
  await page.getByTestId('space-at-input').fill(at(new Date(Date.now() + 60_000)));
  await page.getByTestId('space-at-submit').click();
  await page
    .getByTestId('space-at-result')
    .filter({ hasText: /^2 people/ })
    .waitFor();

  // A headcount: the count follows it, the chart marks it, and the audit trail has it.
  await page.getByTestId('correction-at').fill(at(new Date()));
  await page.getByTestId('correction-count').fill('5');
  await page.getByTestId('correction-note').fill('walked the floor');
  await page.getByTestId('correction-save').click();
  await page.locator('[data-testid="correction-row"][data-kind="headcount"]').waitFor({ timeout: 10_000 });
  await page.locator('[data-testid="space-chart"][data-corrections="1"]').waitFor({ timeout: 10_000 });
  await page.locator('[data-testid="audit-row"][data-action="correction.set"]').waitFor({ timeout: 10_000 });
  assert.equal((await get<{ count: number }>(beacon, '/v1/spaces/hq/count')).count, 5);

  const download = page.waitForEvent('download');
  await page.getByTestId('space-csv').click();
  const file = await (await download).path();
  const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
  assert.equal(lines.length, 289, 'a header and 288 five-minute buckets');
  assert.match(lines[0]!, /^start,end,count_start,count_end,count_peak,count_average,/);

  // Deleting it takes the count back.
  await page.getByTestId('correction-delete').click();
  await page.locator('[data-testid="space-chart"][data-corrections="0"]').waitFor({ timeout: 10_000 });
  assert.equal((await get<{ count: number }>(beacon, '/v1/spaces/hq/count')).count, 2);
  await page.close();
});

test('managing spaces: create, rename, move from a date, delete', async () => {
  const page = await signedIn('/occupancy');
  await page.getByTestId('space-tree').waitFor();
  await page.getByTestId('space-new-name').fill('Annex');
  await page.getByTestId('space-new-capacity').fill('40');
  await page.getByTestId('space-create').click();
  const annexRow = page.locator('[data-testid="space-row"]', { hasText: 'Annex' });
  await annexRow.waitFor();
  const annex = (await annexRow.getAttribute('data-space'))!;
  assert.equal(await annexRow.getByTestId('space-capacity').textContent(), '/ 40');

  await page.getByTestId('space-new-name').fill('Lab 2');
  await page.getByTestId('space-new-parent').selectOption({ label: 'Headquarters' });
  await page.getByTestId('space-create').click();
  const lab2Row = page.locator('[data-space="hq"] + ul [data-testid="space-row"]', { hasText: 'Lab 2' });
  await lab2Row.waitFor();
  const lab2 = (await lab2Row.getAttribute('data-space'))!;

  await lab2Row.getByTestId('space-rename').click();
  await page.getByTestId('space-rename-input').fill('Clean room');
  await page.getByTestId('space-rename-save').click();
  await page.locator(`[data-testid="space-row"][data-space="${lab2}"]`, { hasText: 'Clean room' }).waitFor();

  // Moved into the annex from an hour ago: it shows there now, and its history keeps both parents.
  await page.locator(`[data-testid="space-row"][data-space="${lab2}"]`).getByTestId('space-move').click();
  assert.equal(
    await page.locator('[data-testid="space-move-parent"] option', { hasText: 'Clean room' }).count(),
    0,
    'a space cannot move under itself',
  );
  await page.getByTestId('space-move-parent').selectOption(annex);
  const hourAgo = new Date(Date.now() - 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  await page
    .getByTestId('space-move-at')
    .fill(
      `${hourAgo.getFullYear()}-${p(hourAgo.getMonth() + 1)}-${p(hourAgo.getDate())}T${p(hourAgo.getHours())}:${p(hourAgo.getMinutes())}`,
    );
  await page.getByTestId('space-move-save').click();
  await page.locator(`[data-space="${annex}"] + ul [data-space="${lab2}"]`).waitFor({ timeout: 10_000 });
  const moved = await get<{ parents: { parent: string | null }[] }>(beacon, `/v1/spaces/${lab2}`);
  assert.deepEqual(
    moved.parents.map((x) => x.parent),
    ['hq', annex],
  );
  // The annex cannot go while the clean room moved into it; the clean room can.
  await page.locator(`[data-testid="space-row"][data-space="${annex}"]`).getByTestId('space-delete').click();
  await page.getByTestId('space-delete-confirm').click();
  await page
    .getByTestId('occupancy-problem')
    .filter({ hasText: /still has/ })
    .waitFor();
  await page.locator(`[data-testid="space-row"][data-space="${lab2}"]`).getByTestId('space-delete').click();
  await page.getByTestId('space-delete-confirm').click();
  await page
    .locator(`[data-testid="space-row"][data-space="${lab2}"]`)
    .waitFor({ state: 'detached', timeout: 10_000 });
  await page.close();
});

test('managing doorways, sensors and placements on a timeline; unplaced events; health and alerts', async () => {
  const page = await signedIn('/occupancy?view=setup');
  await page.getByTestId('doorway-new-name').fill('Side door');
  await page.getByTestId('doorway-new-a').selectOption({ label: 'Headquarters' });
  await page.getByTestId('doorway-create').click();
  const side = page.locator('[data-testid="doorway-row"]', { hasText: 'Side door' });
  await side.waitFor();
  const sideId = (await side.getAttribute('data-id'))!;
  await page.getByTestId('sensor-new-id').fill('side-s');
  await page.getByTestId('sensor-new-name').fill('Side sensor');
  await page.getByTestId('sensor-create').click();
  await page.locator('[data-testid="sensor-row"][data-id="side-s"]').waitFor();

  // The side sensor sent crossings before any placement: they wait, unplaced.
  await cross(beacon, [
    { sensor: 'side-s', ts: ago(7_200_000), direction: 1 },
    { sensor: 'side-s', ts: ago(7_100_000), direction: 1 },
  ]);
  await page.getByTestId('occupancy-tab-unplaced').click();
  await page
    .locator('[data-testid="unplaced-row"][data-sensor="side-s"]')
    .nth(1)
    .waitFor({ timeout: 10_000 });

  // Placed on the side door from three hours ago: they count, and the list empties.
  await page.getByTestId('occupancy-tab-setup').click();
  const timeline = page.locator(`[data-testid="placement-timeline"][data-doorway="${sideId}"]`);
  await timeline.getByTestId('placement-new-sensor').selectOption('side-s');
  const p = (n: number) => String(n).padStart(2, '0');
  const local = (d: Date) =>
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  await timeline.getByTestId('placement-new-from').fill(local(new Date(Date.now() - 3 * 3_600_000)));
  await timeline.getByTestId('placement-create').click();
  await timeline
    .locator('[data-testid="placement-bar"][data-sensor="side-s"][data-open="true"]')
    .waitFor({ timeout: 10_000 });
  await page.getByTestId('occupancy-tab-unplaced').click();
  await page.getByTestId('unplaced-empty').waitFor({ timeout: 10_000 });

  // Moved to the front door from an hour ago: its side-door placement ends there.
  await page.getByTestId('occupancy-tab-setup').click();
  const front = page.locator('[data-testid="placement-timeline"][data-doorway="front"]');
  await front.getByTestId('placement-new-sensor').selectOption('side-s');
  await front.getByTestId('placement-new-from').fill(local(new Date(Date.now() - 3_600_000)));
  await front.getByTestId('placement-create').click();
  await front
    .locator('[data-testid="placement-bar"][data-sensor="side-s"][data-open="true"]')
    .waitFor({ timeout: 10_000 });
  await timeline
    .locator('[data-testid="placement-bar"][data-sensor="side-s"][data-open="false"]')
    .waitFor({ timeout: 10_000 });
  // And ended: no sensor on the front door but the front sensor.
  await front
    .locator('[data-testid="placement-row"][data-sensor="side-s"]')
    .getByTestId('placement-end')
    .click();
  await front
    .locator('[data-testid="placement-bar"][data-sensor="side-s"][data-open="false"]')
    .waitFor({ timeout: 10_000 });
  const placements = await get<{ items: { sensor: string; to: string | null }[] }>(
    beacon,
    '/v1/placements?sensor=side-s',
  );
  assert.ok(placements.items.every((x) => x.to !== null));

  // Health: the side sensor is unplaced now, the front one sends, the idle one is silent and alerted
  // (its notification sent on the live stream).
  await page.getByTestId('occupancy-tab-health').click();
  await page
    .locator('[data-testid="health-row"][data-sensor="side-s"][data-status="unplaced"]')
    .waitFor({ timeout: 10_000 });
  await page.locator('[data-testid="health-row"][data-sensor="front-s"][data-status="ok"]').waitFor();
  await page.locator('[data-testid="health-row"][data-sensor="idle-s"][data-status="silent"]').waitFor();
  await page.locator(`[data-testid="drift-row"][data-doorway="front"]`).waitFor();
  await page
    .locator('[data-testid="alert-row"][data-kind="silent"][data-subject="idle-s"]')
    .waitFor({ timeout: 20_000 });
  await page
    .locator('[data-testid="notification-row"][data-delivered="true"]')
    .first()
    .waitFor({ timeout: 20_000 });
  await page.close();
});

test('a space’s alert delay and open hours; undoing a sensor move; deleting placements, sensors and doorways', async () => {
  // Settings, on the space's page: an alert delay and weekday open hours.
  const space = await signedIn('/occupancy?space=lab');
  await space.getByTestId('settings-alert-minutes').fill('7');
  await space.getByTestId('settings-day-mon').check();
  await space.getByTestId('settings-day-tue').check();
  await space.getByTestId('settings-open-from').fill('07:30');
  await space.getByTestId('settings-open-to').fill('19:00');
  await space.getByTestId('settings-save').click();
  await eventually(async () => {
    const lab = await get<{ alertAfterMinutes: number | null; openHours: unknown }>(beacon, '/v1/spaces/lab');
    return lab.alertAfterMinutes === 7 ? lab : undefined;
  }).then((lab) => assert.deepEqual(lab.openHours, [{ days: ['mon', 'tue'], from: '07:30', to: '19:00' }]));
  // Read back into the form on a fresh load; emptying the days takes the open hours away again.
  await space.reload();
  assert.equal(await space.getByTestId('settings-alert-minutes').inputValue(), '7');
  assert.ok(await space.getByTestId('settings-day-tue').isChecked());
  assert.equal(await space.getByTestId('settings-open-from').inputValue(), '07:30');
  await space.getByTestId('settings-day-mon').uncheck();
  await space.getByTestId('settings-day-tue').uncheck();
  await space.getByTestId('settings-alert-minutes').fill('');
  await space.getByTestId('settings-save').click();
  await eventually(async () => {
    const lab = await get<{ alertAfterMinutes: number | null; openHours: unknown }>(beacon, '/v1/spaces/lab');
    return lab.alertAfterMinutes === null && lab.openHours === null ? true : undefined;
  });
  await space.close();

  // A sensor on the old door from three hours ago, moved to the new door an hour ago; then taken back.
  await call(beacon, 'POST', '/v1/doorways', { id: 'old-door', name: 'Old door', a: 'lab', b: 'hq' }, 201);
  await call(beacon, 'POST', '/v1/doorways', { id: 'new-door', name: 'New door', a: 'lab', b: 'hq' }, 201);
  await call(beacon, 'POST', '/v1/sensors', { id: 'mover', name: 'Mover' }, 201);
  await call(
    beacon,
    'POST',
    '/v1/placements',
    { sensor: 'mover', doorway: 'old-door', positive: 'a', from: ago(3 * 3_600_000) },
    201,
  );
  // Two crossings after the move: counted into the lab through the new door, whichever door it was.
  await cross(beacon, [
    { sensor: 'mover', ts: ago(1_800_000), direction: 1 },
    { sensor: 'mover', ts: ago(1_700_000), direction: 1 },
  ]);
  const page = await signedIn('/occupancy?view=setup');
  const oldDoor = page.locator('[data-testid="placement-timeline"][data-doorway="old-door"]');
  const newDoor = page.locator('[data-testid="placement-timeline"][data-doorway="new-door"]');
  const p = (n: number) => String(n).padStart(2, '0');
  const hourAgo = new Date(Date.now() - 3_600_000);
  await newDoor.getByTestId('placement-new-sensor').selectOption('mover');
  await newDoor
    .getByTestId('placement-new-from')
    .fill(
      `${hourAgo.getFullYear()}-${p(hourAgo.getMonth() + 1)}-${p(hourAgo.getDate())}T${p(hourAgo.getHours())}:${p(hourAgo.getMinutes())}`,
    );
  await newDoor.getByTestId('placement-create').click();
  await oldDoor
    .locator('[data-testid="placement-bar"][data-sensor="mover"][data-open="false"]')
    .waitFor({ timeout: 10_000 });
  // Only the placement a move made can be taken back: the first one has nothing before it.
  assert.equal(await oldDoor.getByTestId('placement-undo-move').count(), 0);
  await newDoor
    .locator('[data-testid="placement-row"][data-sensor="mover"]')
    .getByTestId('placement-undo-move')
    .click();
  await newDoor
    .locator('[data-testid="placement-row"][data-sensor="mover"]')
    .waitFor({ state: 'detached', timeout: 10_000 });
  await oldDoor
    .locator('[data-testid="placement-bar"][data-sensor="mover"][data-open="true"]')
    .waitFor({ timeout: 10_000 });
  const placed = await get<{ items: { id: string; doorway: string; to: string | null }[] }>(
    beacon,
    '/v1/placements?sensor=mover',
  );
  assert.deepEqual(
    placed.items.map((x) => [x.doorway, x.to]),
    [['old-door', null]],
    'one placement again, on the old door, open',
  );

  // A doorway with a placement on it cannot go, nor a placed sensor; once the placement is deleted
  // (its events unplaced), both can.
  const oldRow = page.locator('[data-testid="doorway-row"][data-id="old-door"]');
  await oldRow.getByTestId('doorway-delete').click();
  await page
    .getByTestId('occupancy-problem')
    .filter({ hasText: /still has/ })
    .waitFor({ timeout: 10_000 });
  await oldDoor
    .locator('[data-testid="placement-row"][data-sensor="mover"]')
    .getByTestId('placement-delete')
    .click();
  await oldDoor
    .locator('[data-testid="placement-row"][data-sensor="mover"]')
    .waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal((await get<{ items: unknown[] }>(beacon, '/v1/placements?sensor=mover')).items.length, 0);
  await page.getByTestId('occupancy-tab-unplaced').click();
  await page.locator('[data-testid="unplaced-row"][data-sensor="mover"]').nth(1).waitFor({ timeout: 10_000 });
  await page.getByTestId('occupancy-tab-setup').click();
  await page.locator('[data-testid="sensor-row"][data-id="mover"]').getByTestId('sensor-delete').click();
  await page
    .locator('[data-testid="sensor-row"][data-id="mover"]')
    .waitFor({ state: 'detached', timeout: 10_000 });
  for (const door of ['old-door', 'new-door']) {
    await page
      .locator(`[data-testid="doorway-row"][data-id="${door}"]`)
      .getByTestId('doorway-delete')
      .click();
    await page
      .locator(`[data-testid="doorway-row"][data-id="${door}"]`)
      .waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal((await beacon.request(`/v1/doorways/${door}`)).status, 404);
  }
  assert.equal((await beacon.request('/v1/sensors/mover')).status, 404);
  await page.close();
});
