/**
 * Imports of another tool's export as aggregates per local day, dimension and value, kept apart from
 * what Beacon collects (`analytics_imported`) and added to the rollups' answers where their shape
 * allows, as Plausible does with Google Analytics imports.
 *
 * - Plausible CE's CSV export: the `imported_*.csv` files of its zip, already aggregates per day in
 *   the site's zone. Locations are not imported: Beacon has no location dimension.
 * - Umami's data export: `website_event.csv` (one row per page view or event, times in UTC), counted
 *   here by Beacon's own rules: visits from Umami's visit ids, visitors from its session ids.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { BeaconError } from '../errors/catalog.ts';
import { CsvError, readCsv, type CsvRecord } from './csv.ts';
import {
  zeroCounters,
  type Counters,
  type ImportedCell,
  type ImportFile,
  type ImportSource,
} from './model.ts';
import { DIRECT, parseSource } from './source.ts';
import { startOfDay, toLocal } from './time-zone.ts';

/** What an export adds up to: its cells, the days they span, and what was left out. */
export interface ImportedData {
  readonly cells: ImportedCell[];
  readonly firstDay: number | null;
  readonly lastDay: number | null;
  /** Files read, and rows in them. */
  readonly rows: number;
  /** Files not imported, and why. */
  readonly ignored: string[];
}

const invalid = (message: string) => new BeaconError('IMPORT_INVALID', message);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Records parsed between yields to the event loop. */
const CHUNK = 5000;

/** Device, browser and OS names as Beacon's parser writes them (bowser's), from other tools' names. */
const DEVICES: Record<string, string> = {
  desktop: 'desktop',
  laptop: 'desktop',
  mobile: 'mobile',
  tablet: 'tablet',
  tv: 'tv',
};
const BROWSERS: Record<string, string> = {
  chrome: 'Chrome',
  crios: 'Chrome',
  'chromium-webview': 'Chrome',
  firefox: 'Firefox',
  fxios: 'Firefox',
  safari: 'Safari',
  ios: 'Safari',
  'ios-webview': 'Safari',
  edge: 'Microsoft Edge',
  'edge-chromium': 'Microsoft Edge',
  'edge-ios': 'Microsoft Edge',
  opera: 'Opera',
  samsung: 'Samsung Internet for Android',
  'samsung browser': 'Samsung Internet for Android',
  yandexbrowser: 'Yandex Browser',
  brave: 'Brave',
};
const SYSTEMS: Record<string, string> = {
  mac: 'macOS',
  'mac os': 'macOS',
  macos: 'macOS',
  'gnu/linux': 'Linux',
  linux: 'Linux',
  ios: 'iOS',
  'android os': 'Android',
  android: 'Android',
  'chrome os': 'Chrome OS',
};
const nameOf = (table: Record<string, string>, raw: string) => {
  if (raw === '') return '(unknown)';
  const key = raw.toLowerCase();
  if (table[key]) return table[key];
  if (table === SYSTEMS && key.startsWith('windows')) return 'Windows';
  return raw;
};

/** Sums cells in memory: one per (day, dimension, value), however many rows add to it. */
class CellSum {
  readonly #cells = new Map<string, ImportedCell>();
  first: number | null = null;
  last: number | null = null;

  /** Adds to a cell; a breakdown's empty value (no UTM campaign, say) is not a value, as in rollups. */
  add(day: number, dim: string, value: string, change: Partial<Counters>): void {
    if (value === '' && dim !== '') return;
    const key = `${day}\0${dim}\0${value}`;
    let cell = this.#cells.get(key);
    if (!cell) this.#cells.set(key, (cell = { day, dim, value, counters: zeroCounters() }));
    for (const [k, v] of Object.entries(change) as [keyof Counters, number][]) cell.counters[k] += v;
    if (this.first === null || day < this.first) this.first = day;
    if (this.last === null || day > this.last) this.last = day;
  }

  get cells(): ImportedCell[] {
    return [...this.#cells.values()];
  }
}

/** Reads every record of a CSV file, yielding to the event loop every few thousand. */
async function eachRecord(
  file: ImportFile,
  required: readonly string[],
  fn: (r: CsvRecord, get: (column: string) => string) => void,
): Promise<number> {
  let n = 0;
  try {
    const { columns, records } = readCsv(file.content);
    const missing = required.filter((c) => !columns.includes(c));
    if (missing.length > 0) throw invalid(`${file.name}: no column ${missing.join(', ')}`);
    for (const record of records) {
      fn(record, (column) => record.values[column] ?? '');
      if (++n % CHUNK === 0) await yieldToLoop();
    }
  } catch (err) {
    if (err instanceof CsvError) throw invalid(`${file.name}: ${err.message}`);
    throw err;
  }
  return n;
}

/** A whole number of a CSV field (empty reads 0); IMPORT_INVALID otherwise. */
function count(file: ImportFile, line: number, column: string, text: string): number {
  if (text === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw invalid(`${file.name}: line ${line}: ${column} is not a count`);
  return n;
}

/** The local day of a `YYYY-MM-DD` date, as Plausible writes it in the site's zone. */
function dayOf(file: ImportFile, line: number, text: string): number {
  const m = DATE.exec(text);
  const day = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!Number.isFinite(day))
    throw invalid(`${file.name}: line ${line}: date ${JSON.stringify(text)} is not YYYY-MM-DD`);
  return day;
}

/** The counters of Plausible's visit-level files, and the counters of Beacon's they add to. */
const VISIT_COUNTERS: Readonly<Record<string, keyof Counters>> = {
  visitors: 'visitors',
  visits: 'visits',
  pageviews: 'pageviews',
  bounces: 'bounces',
  visit_duration: 'duration',
};

/** How each Plausible file maps onto Beacon's dimensions: the dimension column and the counters in it. */
const PLAUSIBLE: Record<
  string,
  {
    column?: string;
    dims?: readonly (readonly [string, string])[];
    counters: Readonly<Record<string, keyof Counters>>;
  }
> = {
  imported_visitors: {
    counters: VISIT_COUNTERS,
  },
  imported_sources: {
    dims: [
      ['source', 'visit:source'],
      ['referrer', 'visit:referrer'],
      ['utm_source', 'visit:utm_source'],
      ['utm_medium', 'visit:utm_medium'],
      ['utm_campaign', 'visit:utm_campaign'],
    ],
    counters: VISIT_COUNTERS,
  },
  imported_pages: {
    column: 'page',
    dims: [['page', 'event:page']],
    counters: { visitors: 'visitors', visits: 'visits', pageviews: 'pageviews' },
  },
  imported_entry_pages: {
    column: 'entry_page',
    dims: [['entry_page', 'visit:entry_page']],
    counters: {
      visitors: 'visitors',
      entrances: 'visits',
      pageviews: 'pageviews',
      bounces: 'bounces',
      visit_duration: 'duration',
    },
  },
  imported_exit_pages: {
    column: 'exit_page',
    dims: [['exit_page', 'visit:exit_page']],
    counters: { exits: 'visits' },
  },
  imported_custom_events: {
    column: 'name',
    dims: [['name', 'event:name']],
    counters: { visitors: 'visitors', events: 'events' },
  },
  imported_devices: {
    column: 'device',
    dims: [['device', 'visit:device']],
    counters: VISIT_COUNTERS,
  },
  imported_browsers: {
    column: 'browser',
    dims: [['browser', 'visit:browser']],
    counters: VISIT_COUNTERS,
  },
  imported_operating_systems: {
    column: 'operating_system',
    dims: [['operating_system', 'visit:os']],
    counters: VISIT_COUNTERS,
  },
};

/** The table a Plausible export file holds: `imported_pages_20240101_20241231.csv` → `imported_pages`. */
const tableOf = (name: string) =>
  name
    .split('/')
    .pop()!
    .replace(/(_\d{8}_\d{8})?\.csv$/i, '');

/** Values of a Plausible dimension column as Beacon writes them. */
function plausibleValue(column: string, raw: string): string {
  switch (column) {
    case 'source':
      return raw === '' ? DIRECT : raw;
    case 'device':
      return nameOf(DEVICES, raw);
    case 'browser':
      return nameOf(BROWSERS, raw);
    case 'operating_system':
      return nameOf(SYSTEMS, raw);
    default:
      return raw;
  }
}

/** Reads Plausible CE's CSV export. */
export async function readPlausible(
  files: readonly ImportFile[],
  onRow: (n: number) => void,
): Promise<ImportedData> {
  const sum = new CellSum();
  const ignored: string[] = [];
  let rows = 0;
  let parsed = 0;
  for (const file of files) {
    const table = tableOf(file.name);
    if (table === 'imported_locations') {
      ignored.push(`${file.name}: Beacon has no location dimension`);
      continue;
    }
    const spec = PLAUSIBLE[table];
    if (!spec) throw invalid(`${file.name} is not a file of a Plausible CSV export (imported_*.csv)`);
    const required = ['date', ...(spec.column ? [spec.column] : [])];
    rows += await eachRecord(file, required, (record, get) => {
      const day = dayOf(file, record.line, get('date'));
      const counters: Partial<Counters> = {};
      for (const [column, counter] of Object.entries(spec.counters)) {
        const n = count(file, record.line, column, get(column));
        counters[counter] = (counters[counter] ?? 0) + (counter === 'duration' ? n * 1000 : n);
      }
      if (!spec.dims) sum.add(day, '', '', counters);
      for (const [column, dim] of spec.dims ?? [])
        sum.add(day, dim, plausibleValue(column, get(column)), counters);
      onRow(++parsed);
    });
  }
  if (rows === 0 && ignored.length === files.length)
    throw invalid('the export has no file Beacon can import');
  return { cells: sum.cells, firstDay: sum.first, lastDay: sum.last, rows, ignored };
}

/** Umami's `created_at` (`2026-09-21 10:00:00`, UTC, or ISO 8601) as epoch ms. */
function umamiTime(file: ImportFile, line: number, text: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(text)
    ? `${text.replace(' ', 'T')}Z`
    : text;
  const ts = Date.parse(iso);
  if (!Number.isFinite(ts))
    throw invalid(`${file.name}: line ${line}: created_at ${JSON.stringify(text)} is not a time`);
  return ts;
}

/** One Umami visit as it is read: its events in file order, sorted before they are counted. */
interface UmamiVisit {
  readonly session: string;
  readonly device: string;
  readonly browser: string;
  readonly os: string;
  readonly events: { ts: number; page: string; name: string; url: string; referrer: string }[];
}

/** Reads Umami's data export (`website_event.csv`; its other files carry nothing Beacon counts). */
export async function readUmami(
  files: readonly ImportFile[],
  site: { readonly timezone: string; readonly hosts: readonly string[] },
  onRow: (n: number) => void,
): Promise<ImportedData> {
  const events = files.find((f) => tableOf(f.name) === 'website_event');
  if (!events) throw invalid('an Umami data export holds website_event.csv');
  const ignored = files
    .filter((f) => f !== events)
    .map((f) => `${f.name}: Beacon counts website_event.csv only`);
  const visits = new Map<string, UmamiVisit>();
  const rows = await eachRecord(
    events,
    ['session_id', 'url_path', 'event_type', 'created_at'],
    (record, get) => {
      const type = get('event_type');
      if (type !== '1' && type !== '2') return;
      const session = get('session_id');
      const key = get('visit_id') || session;
      let visit = visits.get(key);
      if (!visit)
        visits.set(
          key,
          (visit = {
            session,
            device: nameOf(DEVICES, get('device')),
            browser: nameOf(BROWSERS, get('browser')),
            os: nameOf(SYSTEMS, get('os')),
            events: [],
          }),
        );
      const query = get('url_query');
      const utm = [
        ['utm_source', get('utm_source')],
        ['utm_medium', get('utm_medium')],
        ['utm_campaign', get('utm_campaign')],
      ].filter(([, v]) => v !== '');
      const search = [query, ...utm.map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)]
        .filter((s) => s)
        .join('&');
      const host = get('hostname') || site.hosts[0]!;
      const referrerHost = get('referrer_domain');
      visit.events.push({
        ts: umamiTime(events, record.line, get('created_at')),
        page: get('url_path') || '/',
        name: type === '1' ? 'pageview' : get('event_name') || 'event',
        url: `https://${host}${get('url_path') || '/'}${search ? `?${search}` : ''}`,
        referrer: referrerHost ? `https://${referrerHost}${get('referrer_path')}` : '',
      });
      onRow(record.line);
    },
  );

  const sum = new CellSum();
  const visitors = new Map<string, Set<string>>();
  /** Adds counters to a cell, and the visitor to it once. */
  const add = (day: number, dim: string, value: string, session: string, change: Partial<Counters>) => {
    if (value === '' && dim !== '') return;
    const key = `${day}\0${dim}\0${value}`;
    let seen = visitors.get(key);
    if (!seen) visitors.set(key, (seen = new Set()));
    const fresh = !seen.has(session);
    seen.add(session);
    sum.add(day, dim, value, fresh ? { ...change, visitors: 1 } : change);
  };
  let n = 0;
  for (const visit of visits.values()) {
    const list = visit.events.sort((a, b) => a.ts - b.ts);
    const first = list[0]!;
    const day = startOfDay(toLocal(first.ts, site.timezone));
    const pages = list.filter((e) => e.name === 'pageview');
    const views = pages.length;
    const custom = list.length - views;
    const visitCounters = {
      visits: 1,
      bounces: list.length <= 1 ? 1 : 0,
      duration: list.at(-1)!.ts - first.ts,
    };
    const source = parseSource(first.url, first.referrer, site.hosts);
    add(day, '', '', visit.session, visitCounters);
    const dims: [string, string][] = [
      ['visit:source', source.source],
      ['visit:referrer', source.referrer],
      ['visit:utm_source', source.utmSource],
      ['visit:utm_medium', source.utmMedium],
      ['visit:utm_campaign', source.utmCampaign],
      ['visit:device', visit.device],
      ['visit:browser', visit.browser],
      ['visit:os', visit.os],
      ['visit:entry_page', pages[0]?.page ?? first.page],
    ];
    for (const [dim, value] of dims)
      add(day, dim, value, visit.session, { ...visitCounters, pageviews: views, events: custom });
    add(day, 'visit:exit_page', pages.at(-1)?.page ?? first.page, visit.session, { visits: 1 });
    for (const e of list) {
      const eventDay = startOfDay(toLocal(e.ts, site.timezone));
      const isView = e.name === 'pageview';
      add(eventDay, '', '', visit.session, isView ? { pageviews: 1 } : { events: 1 });
      if (isView) add(eventDay, 'event:page', e.page, visit.session, { pageviews: 1 });
      else add(eventDay, 'event:name', e.name, visit.session, { events: 1 });
    }
    if (++n % CHUNK === 0) await yieldToLoop();
  }
  return { cells: sum.cells, firstDay: sum.first, lastDay: sum.last, rows, ignored };
}

/** Reads an export of either tool. */
export function readExport(
  source: ImportSource,
  files: readonly ImportFile[],
  site: { readonly timezone: string; readonly hosts: readonly string[] },
  onRow: (n: number) => void,
): Promise<ImportedData> {
  return source === 'plausible' ? readPlausible(files, onRow) : readUmami(files, site, onRow);
}
