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
 * (Deflated they took 4 MB, but the steady RSS was 4-12 MB higher with zlib, and the CPU per check too.)
 * A target can also be held as the values its item gave (`addGiven`), without the defaults its spec
 * fills in: about a third of the text (3 MB at 20,000), and `revive` makes the target again when it
 * is iterated. Iterating parses one group at a time.
 */
export class HeldTargets implements FileTargets {
  readonly #groups: string[] = [];
  #pending: string[] = [];
  #length = 0;
  readonly #revive: ((given: Record<string, unknown>) => Target) | undefined;

  /** @param revive makes a target of the values `addGiven` was given, as it did when they were added */
  constructor(revive?: (given: Record<string, unknown>) => Target) {
    this.#revive = revive;
  }

  get length(): number {
    return this.#length;
  }

  add(target: Target): void {
    // JSON escapes newlines inside strings, so a newline separates targets.
    this.#hold(JSON.stringify(target));
  }

  /** Holds a target as the values it was made of (JSON-safe: strings, numbers, booleans, null, lists). */
  addGiven(given: Record<string, unknown>): void {
    if (this.#revive === undefined) throw new Error('HeldTargets.addGiven needs a revive function');
    // A target's JSON starts with `{`: this one is told apart by its first character.
    this.#hold(`=${JSON.stringify(given)}`);
  }

  #hold(line: string): void {
    this.#pending.push(line);
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
      for (const line of group.split('\n')) {
        yield line.charCodeAt(0) === 0x3d
          ? this.#revive!(JSON.parse(line.slice(1)) as Record<string, unknown>)
          : (JSON.parse(line) as Target);
      }
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
  /**
   * Targets read already, item by item, with their push targets (what the pushToken check needs, so
   * it does not parse every held target again): only the other sections are in `text`.
   */
  streamed?: { targets: FileTargets; pushTargets: readonly Target[] },
  /** The file's line number of each line of `text`, when `text` is not the whole file. */
  fileLines?: readonly number[],
): FileDefinitions<FileTargets> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineAt = (offset: number) => {
    const { line } = lines.linePos(offset);
    return fileLines?.[line - 1] ?? line;
  };
  const problem = (node: Node | null | undefined, message: string): BeaconError => {
    const at = node?.range ? lineAt(node.range[0]) : undefined;
    return new BeaconError('TARGETS_FILE_INVALID', `${file}${at ? `:${at}` : ''}: ${message}`);
  };
  const empty: FileDefinitions<FileTargets> = { targets: [], channels: [], alertRules: [], maintenance: [] };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    // linePos is only filled with prettyErrors; the offset is always there.
    throw new BeaconError('TARGETS_FILE_INVALID', `${file}:${lineAt(e.pos[0])}: ${e.message.split('\n')[0]}`);
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
    streamed?.targets ??
    section('targets', TARGET_ID, (rest, item, label) => targetOf(rest, item, label, problem, meta));
  const tokens = new Map<string, string>();
  for (const t of streamed?.pushTargets ?? targets) {
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
 * Reads a targets file line by line, so a file of 100,000 targets never becomes one YAML tree (at
 * 20,000 targets that tree and its copies took the process from about 90 MB to 260 MB, and 30 s,
 * issue 20). An item of a block-style `targets:` list made only of `key: value` lines whose values
 * are simple (see simpleItem) is read without the YAML library, to the same values; any other item,
 * and any item that is not a valid target, is parsed by the library as a small document of its own
 * (with the items next to it that also need it), which names the problem's line. The library's
 * parse left about 3 KB of short-lived objects per item, of which V8's small young generation (the
 * probe's `--max-semi-space-size=1`) promoted much: the old generation grew by 15-20 MB between
 * collections while a file loaded, and the probe's RSS peaked about 20 MB above its steady figure
 * (issue 20). The other sections are small: they are parsed together as one document at the end,
 * each line keeping its number in problems. Problems name the file and line as the whole-document
 * parse does. `finish()` returns undefined when the file uses what items parsed alone cannot read
 * (a flow-style list, several documents, an alias to an anchor in another item): the caller then
 * parses the whole document.
 */
export class TargetsFileReader {
  readonly #file: string;
  readonly #tenants: ReadonlySet<string>;
  readonly #defaultTenant: string;
  readonly #meta: { source: 'file'; createdAt: number; updatedAt: number };
  /** Everything but the target items, and the file's line number of each. */
  #rest: string[] = [];
  #restLines: number[] = [];
  #lineNo = 0;
  #inTargets = false;
  /** The column of the targets list's dashes, once seen. */
  #indent: number | undefined;
  #item: string[] = [];
  #itemLine = 0;
  /** Items for the YAML library, not parsed yet, and the line the first of them starts on. */
  #group: string[] = [];
  #groupLine = 0;
  readonly #onBatch: ((targets: readonly Target[]) => void) | undefined;
  /** Valid targets not handed to onBatch yet. */
  #batch: Target[] = [];
  #fallback = false;
  readonly #seen = new Map<string, number>();
  /** The valid targets read so far, held compactly until they are stored. */
  readonly targets = new HeldTargets((given) => this.#targetOf(given)!);
  /** The push targets among them (the file-wide pushToken check needs only these). */
  readonly #pushTargets: Target[] = [];

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
      this.#keep(header ? 'targets:' : text);
      return;
    }
    if (!this.#inTargets) {
      this.#keep(text);
      return;
    }
    // The targets' lines are left out of the rest (the line numbers kept say where the rest's are).
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
      this.#itemLine = this.#lineNo;
    } else if (indent <= this.#indent || this.#item.length === 0) {
      // Not a list item and not inside one (a mapping under targets, say): the whole document says why.
      this.#fallback = true;
      return;
    }
    this.#item.push(text);
  }

  #keep(text: string): void {
    this.#rest.push(text);
    this.#restLines.push(this.#lineNo);
  }

  /** Ends the item being read: a simple one is taken at once, any other joins the library's group. */
  #endItem(): void {
    if (this.#item.length === 0) return;
    const lines = this.#item;
    this.#item = [];
    if (this.#fallback) return;
    const raw = simpleItem(lines);
    const target = raw && this.#valid(raw);
    if (target) {
      // The items before it first, so targets keep the file's order.
      this.#parseGroup();
      this.#take(target, raw);
      return;
    }
    if (this.#group.length === 0) this.#groupLine = this.#itemLine;
    this.#group.push(lines.join('\n'));
    if (this.#group.length >= GROUP) this.#parseGroup();
  }

  /**
   * An item's values as a target, or undefined when anything is wrong with it: the library's parse
   * then finds the same problem and names its line (see #parseGroup, which checks the same).
   */
  #valid(raw: Record<string, unknown>): Target | undefined {
    const target = this.#targetOf(raw);
    return target && !this.#seen.has(`${target.tenant}/${target.id}`) ? target : undefined;
  }

  /** The target an item's values make, or undefined when they make none (what #valid checks but `seen`). */
  #targetOf(raw: Record<string, unknown>): Target | undefined {
    const { id, tenant = this.#defaultTenant, ...rest } = raw;
    if (typeof id !== 'string' || !TARGET_ID.test(id)) return undefined;
    if (typeof tenant !== 'string' || !this.#tenants.has(tenant)) return undefined;
    const parsed = parseTargetSpec(rest);
    if ('problems' in parsed) return undefined;
    if (parsed.spec.kind === 'push' && parsed.spec.pushToken === undefined) return undefined;
    return { ...parsed.spec, ...this.#meta, tenant, id };
  }

  /**
   * Keeps a valid target (held as the item's values when given: they make the same target again);
   * groups of them are handed to onBatch.
   */
  #take(target: Target, given?: Record<string, unknown>): void {
    this.#seen.set(`${target.tenant}/${target.id}`, this.targets.length);
    if (given) this.targets.addGiven(given);
    else this.targets.add(target);
    if (target.kind === 'push') this.#pushTargets.push(target);
    if (this.#onBatch === undefined) return;
    this.#batch.push(target);
    if (this.#batch.length >= BATCH) this.#handOn();
  }

  #handOn(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#onBatch?.(batch);
  }

  /**
   * Parses the gathered items with the YAML library as one small document (a list of up to GROUP
   * items) and validates each, throwing the first problem with its line.
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
      this.#take({ ...targetOf(rest, item, `targets[${i}]`, problem, this.#meta), tenant, id });
    }
  }

  /** The file's definitions, or undefined when only the whole document can read it. */
  finish(): FileDefinitions<FileTargets> | undefined {
    this.#endItem();
    this.#parseGroup();
    if (this.#fallback) return undefined;
    this.#handOn();
    const rest = this.#rest.join('\n');
    const restLines = this.#restLines;
    this.#rest = [];
    this.#restLines = [];
    return parseWholeDocument(
      rest,
      this.#file,
      this.#tenants,
      this.#meta.createdAt,
      this.#defaultTenant,
      { targets: this.targets, pushTargets: this.#pushTargets },
      restLines,
    );
  }
}

/** Items parsed as one YAML document by the library. */
const GROUP = 8;

/** Targets handed on to onBatch together. */
const BATCH = 32;

/**
 * The values of a targets-list item made only of `key: value` lines (after the item's `- `, each key
 * at the same column), the way the YAML library (YAML 1.2, core schema) reads them; undefined for
 * anything else, which the library then reads. Keys are letters, digits and `_`, each once. A value
 * is one of
 * - a double-quoted string without `\` escapes, or a single-quoted one without `''`;
 * - a plain scalar starting with a letter, with no ` #` (a comment) and no `: `, not ending in `:`:
 *   `true`/`True`/`TRUE`/`false`/`False`/`FALSE` are booleans, `null`/`Null`/`NULL` null, the rest
 *   strings (`yes`, `on` and `no` are strings in YAML 1.2);
 * - a decimal integer without a sign or leading zero, of at most 15 digits (`0x10`, `010`, `1.5`,
 *   `-1`, `1e3` and `.inf` go to the library);
 * - a flow list `[...]` of the above on one line, its plain items without spaces or flow indicators.
 * Blank and comment lines are skipped; lines of printable ASCII only (anything else goes to the
 * library). `~` and an empty value go to the library.
 */
export function simpleItem(lines: readonly string[]): Record<string, unknown> | undefined {
  const head = /^( *- +)(\S.*)$/.exec(lines[0]!);
  if (head === null) return undefined;
  const column = head[1]!.length;
  const out: Record<string, unknown> = {};
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (!PRINTABLE.test(line)) return undefined;
    let text: string;
    if (n === 0) text = head[2]!;
    else {
      if (COMMENT_OR_BLANK.test(line)) continue;
      // Exactly at the keys' column: more is a continuation or a nested block, less an error.
      if (/^ */.exec(line)![0].length !== column) return undefined;
      text = line.slice(column);
    }
    const pair = PAIR.exec(text);
    if (pair === null) return undefined;
    const key = pair[1]!;
    if (Object.hasOwn(out, key) || BOOL.test(key) || NULL.test(key)) return undefined;
    const value = simpleValue(pair[2]!.trimEnd());
    if (value === NOT_SIMPLE) return undefined;
    out[key] = value;
  }
  return out;
}

const NOT_SIMPLE = Symbol('not simple');
const PRINTABLE = /^[\x20-\x7e]*$/;
const COMMENT_OR_BLANK = /^ *(#.*)?$/;
const PAIR = /^([A-Za-z][A-Za-z0-9_]*): +(\S.*)$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const NULL = /^(?:[Nn]ull|NULL)$/;
const DOUBLE_QUOTED = /^"([^"\\]*)"$/;
const SINGLE_QUOTED = /^'([^']*)'$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,14})$/;
/** One item of a flow list and the comma or end after it. */
const FLOW_ITEM = / *(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9][A-Za-z0-9_./-]*)) *(,|$)/y;

function simpleValue(text: string): unknown {
  const first = text.charCodeAt(0);
  if (first === 0x22) {
    const m = DOUBLE_QUOTED.exec(text);
    return m ? m[1] : NOT_SIMPLE;
  }
  if (first === 0x27) {
    const m = SINGLE_QUOTED.exec(text);
    return m ? m[1] : NOT_SIMPLE;
  }
  if (first === 0x5b) return flowList(text);
  return plainValue(text);
}

function plainValue(text: string): unknown {
  if (DECIMAL.test(text)) return Number(text);
  const first = text.charCodeAt(0) | 0x20;
  if (first < 0x61 || first > 0x7a) return NOT_SIMPLE;
  if (text.includes(' #') || text.includes(': ') || text.endsWith(':')) return NOT_SIMPLE;
  if (BOOL.test(text)) return text[0] === 't' || text[0] === 'T';
  if (NULL.test(text)) return null;
  return text;
}

function flowList(text: string): unknown {
  if (text.charCodeAt(text.length - 1) !== 0x5d) return NOT_SIMPLE;
  const inner = text.slice(1, -1);
  if (/^ *$/.test(inner)) return [];
  const out: unknown[] = [];
  FLOW_ITEM.lastIndex = 0;
  while (FLOW_ITEM.lastIndex < inner.length) {
    const m = FLOW_ITEM.exec(inner);
    if (m === null) return NOT_SIMPLE;
    const value = m[1] ?? m[2] ?? plainValue(m[3]!);
    if (value === NOT_SIMPLE) return NOT_SIMPLE;
    out.push(value);
    // A trailing comma, or an empty item: the library's.
    if (m[4] === ',' && FLOW_ITEM.lastIndex >= inner.length) return NOT_SIMPLE;
  }
  return out;
}

/**
 * Reads a targets file from disk a line at a time (see TargetsFileReader). Reading costs about 0.04 ms
 * of CPU per simple target (0.73-1.06 s for 20,000) and more per item the YAML library parses, so it
 * yields to the event loop every few milliseconds: checks already started
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
