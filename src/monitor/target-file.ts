import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { isMap, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { BeaconError } from '../errors/catalog.ts';
import { CHANNEL_ID, parseChannelSpec, type Channel } from '../notify/channels.ts';
import type { ChannelRepository } from '../notify/store/repositories.ts';
import { parseAlertRuleSpec, type AlertRule } from './alert-rules.ts';
import { DEFINITION_ID, parseMaintenanceSpec, type MaintenanceWindow } from './maintenance.ts';
import type { MonitorRepositories } from './store/repositories.ts';
import type { MonitorMetrics } from './metrics.ts';
import { parseTargetSpec, TARGET_ID, type Target } from './target.ts';

/** What a targets file defines, each with its tenant and `source: 'file'`. */
export interface FileDefinitions<Targets extends FileTargets = Target[]> {
  /** An array from parseTargetsFile; held compactly (HeldTargets) from a file read for storing. */
  readonly targets: Targets;
  readonly channels: Channel[];
  readonly alertRules: AlertRule[];
  readonly maintenance: MaintenanceWindow[];
}

/** Targets that can be counted and iterated (more than once). */
export type FileTargets = Iterable<Target> & { readonly length: number };

/**
 * A targets file's targets between being read and being stored, as JSON text, 256 targets to a
 * string: at 20,000 targets the objects took about 15 MB of heap, and the probe's RSS peaked at
 * start-up 25 MB above its steady figure while it held them (issue 20); as text they take about 8 MB.
 * (Deflated they took 4 MB, but the steady RSS was 4-12 MB higher with zlib, and the CPU per check too.) Iterating
 * parses one group at a time.
 */
export class HeldTargets implements FileTargets {
  readonly #groups: string[] = [];
  #pending: string[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  add(target: Target): void {
    // JSON escapes newlines inside strings, so a newline separates targets.
    this.#pending.push(JSON.stringify(target));
    this.#length += 1;
    if (this.#pending.length >= HELD_GROUP) this.#seal();
  }

  #seal(): void {
    if (this.#pending.length === 0) return;
    this.#groups.push(this.#pending.join('\n'));
    this.#pending = [];
  }

  *[Symbol.iterator](): Iterator<Target> {
    this.#seal();
    for (const group of this.#groups) {
      for (const line of group.split('\n')) yield JSON.parse(line) as Target;
    }
  }
}

/** Targets held as one string (about 100 KB of JSON). */
const HELD_GROUP = 256;

/**
 * Parses a targets file (monitoring as code): targets, and the channels, alert rules and maintenance
 * windows that go with them.
 *
 * ```yaml
 * targets:
 *   - id: homepage          # required, unique per tenant; keeps history across edits
 *     tenant: default       # optional, default "default"
 *     url: https://example.com/
 *     intervalSeconds: 30
 *     pattern: Welcome
 * channels:
 *   - id: ops
 *     name: Ops on Slack
 *     url: slack://T000/B000/XXXX/#ops
 * alertRules:
 *   - id: everything
 *     channels: [ops]
 * maintenance:
 *   - id: sunday-deploys
 *     title: Deploys
 *     start: "2026-01-04T02:00"
 *     rrule: FREQ=WEEKLY;BYDAY=SU
 *     durationMinutes: 60
 *     timeZone: Europe/Berlin
 * ```
 *
 * Throws TARGETS_FILE_INVALID naming the file, line and field of the first problem. Items without a
 * `tenant` belong to `defaultTenant`.
 */
export function parseTargetsFile(
  text: string,
  file: string,
  knownTenants: ReadonlySet<string>,
  now: number,
  defaultTenant = 'default',
): FileDefinitions {
  const reader = new TargetsFileReader(file, knownTenants, now, undefined, defaultTenant);
  for (const line of text.split('\n')) reader.line(line);
  const defined = reader.finish() ?? parseWholeDocument(text, file, knownTenants, now, defaultTenant);
  return { ...defined, targets: [...defined.targets] };
}

/** The whole file as one YAML document: what the streaming reader falls back to (see TargetsFileReader). */
function parseWholeDocument(
  text: string,
  file: string,
  knownTenants: ReadonlySet<string>,
  now: number,
  /** The tenant of items that name none. */
  defaultTenant: string,
  /** Targets read already, item by item: only the other sections are in `text`. */
  streamed?: FileTargets,
): FileDefinitions<FileTargets> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problem = (node: Node | null | undefined, message: string): BeaconError => {
    const at = node?.range ? lines.linePos(node.range[0]) : undefined;
    return new BeaconError('TARGETS_FILE_INVALID', `${file}${at ? `:${at.line}` : ''}: ${message}`);
  };
  const empty: FileDefinitions<FileTargets> = { targets: [], channels: [], alertRules: [], maintenance: [] };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    // linePos is only filled with prettyErrors; the offset is always there.
    const at = lines.linePos(e.pos[0]);
    throw new BeaconError('TARGETS_FILE_INVALID', `${file}:${at.line}: ${e.message.split('\n')[0]}`);
  }
  if (doc.contents === null) return empty;
  if (!isMap(doc.contents)) throw problem(doc.contents, 'the file must be a mapping with a `targets` list');
  for (const pair of doc.contents.items) {
    const key = (pair.key as { value?: unknown } | null)?.value;
    if (typeof key !== 'string' || !SECTIONS.includes(key as (typeof SECTIONS)[number]))
      throw problem(pair.key, `unknown section ${String(key)}; use ${SECTIONS.join(', ')}`);
  }

  /** Each item of a section, with its id and tenant checked and its own fields given to `read`. */
  function section<T>(
    name: (typeof SECTIONS)[number],
    idPattern: RegExp,
    read: (rest: Record<string, unknown>, item: YAMLMap, label: string) => T,
  ): (T & { tenant: string; id: string })[] {
    const list = doc.get(name, true) as Node | undefined;
    if (list === undefined || list === null) return [];
    if (!isSeq(list)) throw problem(list, `\`${name}\` must be a list`);
    const out: (T & { tenant: string; id: string })[] = [];
    const seen = new Map<string, number>();
    for (const [i, item] of (list as unknown as { items: Node[] }).items.entries()) {
      if (!isMap(item)) throw problem(item, `${name}[${i}] must be a mapping`);
      const raw = item.toJSON() as Record<string, unknown>;
      const { id, tenant = defaultTenant, ...rest } = raw;
      const at = (key: string) => (item.get(key, true) as Node | undefined) ?? item;
      if (typeof id !== 'string' || !idPattern.test(id)) {
        throw problem(at('id'), `${name}[${i}].id must be letters, digits, ".", "_" or "-" (at most 128)`);
      }
      if (typeof tenant !== 'string' || !knownTenants.has(tenant)) {
        throw problem(at('tenant'), `${name}[${i}].tenant ${JSON.stringify(tenant)} is not a tenant`);
      }
      const key = `${tenant}/${id}`;
      if (seen.has(key)) throw problem(at('id'), `${name}[${i}].id ${id} repeats ${name}[${seen.get(key)!}]`);
      seen.set(key, i);
      out.push({ ...read(rest, item, `${name}[${i}]`), tenant, id });
    }
    return out;
  }

  /** A spec read by a parser that throws its own coded error: the file's error, on the item's line. */
  const coded = <T>(item: YAMLMap, label: string, parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof BeaconError)) throw err;
      const field = /^([A-Za-z]+)[ .]/.exec(err.message)?.[1];
      const node = (field ? (item.get(field, true) as Node | undefined) : undefined) ?? item;
      throw problem(node, `${label}: ${err.message}`);
    }
  };

  const meta = { source: 'file' as const, createdAt: now, updatedAt: now };
  const targets =
    streamed ??
    section('targets', TARGET_ID, (rest, item, label) => targetOf(rest, item, label, problem, meta));
  const tokens = new Map<string, string>();
  for (const t of targets) {
    if (t.kind !== 'push' || t.pushToken === undefined) continue;
    const other = tokens.get(t.pushToken);
    if (other) throw problem(doc.contents, `targets ${other} and ${t.id} have the same pushToken`);
    tokens.set(t.pushToken, t.id);
  }
  const channels = section('channels', CHANNEL_ID, (rest, item, label) => {
    const { spec, kind } = coded(item, label, () => parseChannelSpec(rest));
    return { ...spec, kind, ...meta };
  });
  const alertRules = section('alertRules', DEFINITION_ID, (rest, item, label) => ({
    ...coded(item, label, () => parseAlertRuleSpec(rest)),
    ...meta,
  }));
  const maintenance = section('maintenance', DEFINITION_ID, (rest, item, label) => ({
    ...coded(item, label, () => parseMaintenanceSpec(rest)),
    ...meta,
  }));
  return { targets, channels, alertRules, maintenance };
}

/** One item of `targets`, validated; `problem` names the node's line. */
function targetOf(
  rest: Record<string, unknown>,
  item: YAMLMap,
  label: string,
  problem: (node: Node | null | undefined, message: string) => BeaconError,
  meta: { source: 'file'; createdAt: number; updatedAt: number },
): Target {
  const parsed = parseTargetSpec(rest);
  if ('problems' in parsed) {
    const p = parsed.problems[0]!;
    const path = p.path.split('/').filter(Boolean);
    const node = (path.length > 0 ? (item.getIn(path, true) as Node | undefined) : undefined) ?? item;
    throw problem(
      node,
      `${label}${path.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join('')} ${p.message}`,
    );
  }
  // A push token cannot be made up here: it must stay the same across reloads, so the file gives it.
  if (parsed.spec.kind === 'push' && parsed.spec.pushToken === undefined)
    throw problem(item, `${label} is a push target: give it a pushToken (16 to 128 letters, digits, _ or -)`);
  return { ...parsed.spec, ...meta } as Target;
}

/**
 * Reads a targets file line by line, parsing each item of a block-style `targets:` list as a YAML
 * document of its own, so a file of 100,000 targets never becomes one YAML tree (at 20,000 targets
 * that tree and its copies took the process from about 90 MB to 260 MB, and 30 s, issue 20). The
 * other sections are small: they are parsed together as one document at the end, with the target
 * lines blanked so every line keeps its number. Problems name the file and line as the whole-document
 * parse does. `finish()` returns undefined when the file uses what items parsed alone cannot read
 * (a flow-style list, several documents, an alias to an anchor in another item): the caller then
 * parses the whole document.
 */
export class TargetsFileReader {
  readonly #file: string;
  readonly #tenants: ReadonlySet<string>;
  readonly #defaultTenant: string;
  readonly #meta: { source: 'file'; createdAt: number; updatedAt: number };
  /** Everything but the target items, with their lines left empty. */
  #rest: string[] = [];
  #lineNo = 0;
  #inTargets = false;
  /** The column of the targets list's dashes, once seen. */
  #indent: number | undefined;
  #item: string[] = [];
  /** Items read but not parsed yet, and the line the first of them starts on. */
  #group: string[] = [];
  #groupLine = 0;
  readonly #onBatch: ((targets: readonly Target[]) => void) | undefined;
  #fallback = false;
  readonly #seen = new Map<string, number>();
  /** The valid targets read so far, held compactly until they are stored. */
  readonly targets = new HeldTargets();

  /** @param onBatch called with each group of targets as soon as they are valid (see readTargetsFile) */
  constructor(
    file: string,
    knownTenants: ReadonlySet<string>,
    now: number,
    onBatch?: (targets: readonly Target[]) => void,
    /** The tenant of items that name none. */
    defaultTenant = 'default',
  ) {
    this.#onBatch = onBatch;
    this.#defaultTenant = defaultTenant;
    this.#file = file;
    this.#tenants = knownTenants;
    this.#meta = { source: 'file', createdAt: now, updatedAt: now };
  }

  /** Feeds the next line (without its newline). Throws TARGETS_FILE_INVALID at the first bad item. */
  line(text: string): void {
    this.#lineNo += 1;
    if (this.#fallback) return;
    if (this.#lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (/^(---|\.\.\.)(\s|$)/.test(text) || text.includes('\t')) {
      this.#fallback = true;
      return;
    }
    const blank = /^\s*(#.*)?$/.test(text);
    if (!blank && !/^\s/.test(text)) {
      // A top-level line: ends the targets list, and may start it.
      this.#endItem();
      this.#inTargets = false;
      const header = /^targets\s*:\s*(#.*)?$/.test(text);
      if (/^targets\s*:/.test(text) && !header) {
        // `targets: [...]` (flow style) or a value on the key's line: the whole document reads it.
        if (!/^targets\s*:\s*\[\s*\]\s*(#.*)?$/.test(text)) this.#fallback = true;
      }
      this.#inTargets = header;
      this.#rest.push(header ? 'targets:' : text);
      return;
    }
    if (!this.#inTargets) {
      this.#rest.push(text);
      return;
    }
    this.#rest.push('');
    if (blank) {
      if (this.#item.length > 0) this.#item.push(text);
      return;
    }
    const dash = /^(\s*)-(\s|$)/.exec(text);
    const indent = /^\s*/.exec(text)![0].length;
    this.#indent ??= dash ? indent : undefined;
    if (this.#indent === undefined) {
      this.#fallback = true;
      return;
    }
    if (dash && indent === this.#indent) {
      this.#endItem();
      if (this.#group.length === 0) this.#groupLine = this.#lineNo;
    } else if (indent <= this.#indent || this.#item.length === 0) {
      // Not a list item and not inside one (a mapping under targets, say): the whole document says why.
      this.#fallback = true;
      return;
    }
    this.#item.push(text);
  }

  /** Ends the item being read; a full group of items is parsed. */
  #endItem(): void {
    if (this.#item.length === 0) return;
    this.#group.push(this.#item.join('\n'));
    this.#item = [];
    if (this.#group.length >= GROUP) this.#parseGroup();
  }

  /**
   * Parses the gathered items as one small document (a list of up to GROUP items; about 40% less CPU
   * per item than one document each) and validates each.
   */
  #parseGroup(): void {
    if (this.#group.length === 0 || this.#fallback) return;
    const text = this.#group.join('\n');
    this.#group = [];
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    const first = this.#groupLine - 1;
    const problem = (node: Node | null | undefined, message: string): BeaconError => {
      const at = node?.range ? lines.linePos(node.range[0]) : undefined;
      return new BeaconError(
        'TARGETS_FILE_INVALID',
        `${this.#file}${at ? `:${first + at.line}` : ''}: ${message}`,
      );
    };
    // An alias to an anchor in another group: only the whole document resolves it.
    if (doc.errors.some((e) => /alias/i.test(e.message))) {
      this.#fallback = true;
      return;
    }
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const at = lines.linePos(e.pos[0]);
      throw new BeaconError(
        'TARGETS_FILE_INVALID',
        `${this.#file}:${first + at.line}: ${e.message.split('\n')[0]}`,
      );
    }
    const seq = doc.contents;
    const items = isSeq(seq) ? (seq.items as Node[]) : [];
    let values: unknown[];
    try {
      values = doc.toJS() as unknown[];
    } catch (err) {
      if (/alias/i.test((err as Error).message)) {
        this.#fallback = true;
        return;
      }
      throw err;
    }
    const batch: Target[] = [];
    for (const [k, item] of items.entries()) {
      const i = this.targets.length;
      if (!isMap(item)) throw problem(item ?? seq, `targets[${i}] must be a mapping`);
      const raw = values[k] as Record<string, unknown>;
      const { id, tenant = this.#defaultTenant, ...rest } = raw;
      const at = (key: string) => (item.get(key, true) as Node | undefined) ?? item;
      if (typeof id !== 'string' || !TARGET_ID.test(id)) {
        throw problem(at('id'), `targets[${i}].id must be letters, digits, ".", "_" or "-" (at most 128)`);
      }
      if (typeof tenant !== 'string' || !this.#tenants.has(tenant)) {
        throw problem(at('tenant'), `targets[${i}].tenant ${JSON.stringify(tenant)} is not a tenant`);
      }
      const key = `${tenant}/${id}`;
      const before = this.#seen.get(key);
      if (before !== undefined) throw problem(at('id'), `targets[${i}].id ${id} repeats targets[${before}]`);
      this.#seen.set(key, i);
      const target = { ...targetOf(rest, item, `targets[${i}]`, problem, this.#meta), tenant, id };
      this.targets.add(target);
      batch.push(target);
    }
    this.#onBatch?.(batch);
  }

  /** The file's definitions, or undefined when only the whole document can read it. */
  finish(): FileDefinitions<FileTargets> | undefined {
    this.#endItem();
    this.#parseGroup();
    if (this.#fallback) return undefined;
    const rest = this.#rest.join('\n');
    this.#rest = [];
    return parseWholeDocument(
      rest,
      this.#file,
      this.#tenants,
      this.#meta.createdAt,
      this.#defaultTenant,
      this.targets,
    );
  }
}

/** Items parsed as one YAML document. */
const GROUP = 32;

/**
 * Reads a targets file from disk a line at a time (see TargetsFileReader). Parsing costs about 0.3 ms
 * of CPU per target, so it yields to the event loop every few milliseconds: checks already started
 * stay on time while a large file loads. `onBatch` gets each group of valid targets as soon as it is
 * read (the prober starts checking them before the rest of the file is read).
 */
export async function readTargetsFile(
  file: string,
  knownTenants: ReadonlySet<string>,
  now: number,
  onBatch?: (targets: readonly Target[]) => void,
): Promise<FileDefinitions<FileTargets>> {
  const reader = new TargetsFileReader(file, knownTenants, now, onBatch);
  const cannot = (cause: unknown) =>
    new BeaconError('TARGETS_FILE_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  try {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let since = performance.now();
    for await (const line of lines) {
      reader.line(line);
      if (performance.now() - since > 10) {
        await new Promise((r) => setImmediate(r));
        since = performance.now();
      }
    }
  } catch (err) {
    throw err instanceof BeaconError ? err : cannot(err);
  }
  const defined = reader.finish();
  if (defined) return defined;
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw cannot(cause);
  });
  return parseWholeDocument(text, file, knownTenants, now, 'default');
}

/** The sections a targets file may have. */
const SECTIONS = ['targets', 'channels', 'alertRules', 'maintenance'] as const;

export interface TargetFileOptions {
  readonly file: string;
  /** Where the file's definitions are kept. */
  readonly store: Pick<MonitorRepositories, 'targets' | 'alertRules' | 'maintenance'> & {
    readonly channels: ChannelRepository;
  };
  readonly tenants: () => Promise<ReadonlySet<string>>;
  /** Called after a new set was stored, so the prober picks it up at once. */
  readonly applied: () => void;
  /**
   * Called during the first load with each group of targets as soon as it is read and valid, before
   * the file is stored, so checking starts within seconds of launch even for 100,000 targets. A
   * problem later in the file still fails the start.
   */
  readonly preview?: (targets: readonly Target[]) => void;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
}

/**
 * Keeps the file-defined targets, channels, alert rules and maintenance windows in the store equal to
 * the file. It reloads on every change; a bad file is rejected with the line named, and what the last
 * good file defined keeps running.
 */
export class TargetFile {
  readonly #o: TargetFileOptions;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #loading: Promise<void> = Promise.resolve();
  /** The last rejection, or undefined once a good file was applied. */
  lastError: BeaconError | undefined;
  /** Increments on every load attempt that finished (applied or rejected). */
  loads = 0;

  constructor(options: TargetFileOptions) {
    this.#o = options;
  }

  /** Loads the file once (a bad file at start-up throws) and starts watching it. */
  async start(): Promise<void> {
    await this.#load(true);
    const path = resolve(this.#o.file);
    // Watch the directory: editors replace files by rename, which ends a watch on the file itself.
    this.#watcher = watch(dirname(path), (_event, name) => {
      if (name !== basename(path)) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#loading = this.#loading.then(() => this.#load(false));
      }, 50);
    });
  }

  async #load(strict: boolean): Promise<void> {
    try {
      const defined = await readTargetsFile(
        this.#o.file,
        await this.#o.tenants(),
        Date.now(),
        strict ? this.#o.preview : undefined,
      );
      const { store } = this.#o;
      // Channels first, so rules never name a channel the store does not have yet.
      const channels = await store.channels.replaceFileChannels(defined.channels);
      const targets = await store.targets.replaceFileTargets(defined.targets);
      const rules = await store.alertRules.replaceFile(defined.alertRules);
      const windows = await store.maintenance.replaceFile(defined.maintenance);
      this.lastError = undefined;
      this.#o.metrics.fileReloads.inc({ outcome: 'applied' });
      this.#o.logger.info(
        {
          file: this.#o.file,
          targets: defined.targets.length,
          channels: defined.channels.length,
          alertRules: defined.alertRules.length,
          maintenance: defined.maintenance.length,
          upserted: targets.upserted + channels.upserted + rules.upserted + windows.upserted,
          deleted: targets.deleted + channels.deleted + rules.deleted + windows.deleted,
        },
        'targets file applied',
      );
      this.#o.applied();
    } catch (err) {
      if (strict || !(err instanceof BeaconError)) throw err;
      this.lastError = err;
      this.#o.metrics.fileReloads.inc({ outcome: 'rejected' });
      this.#o.logger.error(
        { code: err.code, error: err.message },
        'targets file rejected; the previous targets keep running',
      );
    } finally {
      this.loads += 1;
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    await this.#loading;
  }
}
