import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { isMap, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { BeaconError } from '../errors/catalog.ts';
import { CHANNEL_ID, parseChannelSpec, type Channel } from '../notify/channels.ts';
import type { ChannelRepository } from '../notify/store/repositories.ts';
import { parseAlertRuleSpec, type AlertRule } from './alert-rules.ts';
import { DEFINITION_ID, parseMaintenanceSpec, type MaintenanceWindow } from './maintenance.ts';
import type { FileTargetsLoad, MonitorRepositories } from './store/repositories.ts';
import type { MonitorMetrics } from './metrics.ts';
import { parseTargetSpec, TARGET_ID, type Target, type TargetSpec } from './target.ts';

/** What a targets file defines, each with its tenant and `source: 'file'`. */
export interface FileDefinitions {
  readonly targets: Target[];
  readonly channels: Channel[];
  readonly alertRules: AlertRule[];
  readonly maintenance: MaintenanceWindow[];
}

/** A file's definitions but its targets, which a reader hands on in batches as it reads them. */
export type OtherDefinitions = Omit<FileDefinitions, 'targets'>;

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
  const reader = new TargetsFileReader(file, knownTenants, now, defaultTenant);
  const targets: Target[] = [];
  for (const line of text.split('\n')) {
    reader.line(line);
    for (const batch of reader.drain()) targets.push(...batch);
  }
  const rest = reader.finish();
  for (const batch of reader.drain()) targets.push(...batch);
  return rest ? { ...rest, targets } : parseWholeDocument(text, file, knownTenants, now, defaultTenant);
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
   * The push targets of targets read already, item by item (what the pushToken check needs): `text`
   * then holds only the other sections, and the definitions come back with no targets.
   */
  streamed?: { pushTargets: readonly Target[] },
  /** The file's line number of each line of `text`, when `text` is not the whole file. */
  fileLines?: readonly number[],
): FileDefinitions {
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
  const empty: FileDefinitions = { targets: [], channels: [], alertRules: [], maintenance: [] };
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
      const { id, tenant, rest, label } = identityOf(item.toJSON() as Record<string, unknown>, {
        section: name,
        index: i,
        idPattern,
        tenants: knownTenants,
        defaultTenant,
        seen,
        fail: atNode(item, problem),
      });
      seen.set(`${tenant}/${id}`, i);
      out.push({ ...read(rest, item, label), tenant, id });
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
  const targets = streamed
    ? []
    : section('targets', TARGET_ID, (rest, item, label) => targetOf(rest, item, label, problem, meta));
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
  return { ...targetSpecOf(rest, label, atNode(item, problem)), ...meta } as Target;
}

/** Reports a problem at a key (or a path of keys) of an item; never returns. */
type Fail = (at: readonly string[], message: string) => never;

/** A Fail that throws the file's error on the line of the item's node at that path (or the item's). */
function atNode(
  item: YAMLMap,
  problem: (node: Node | null | undefined, message: string) => BeaconError,
): Fail {
  return (at, message) => {
    const node = at.length > 0 ? (item.getIn(at, true) as Node | undefined) : undefined;
    throw problem(node ?? item, message);
  };
}

/**
 * An item's id and tenant, checked, and its other fields: the one check of every path that reads
 * items (the whole document's sections, the reader's groups and its fast path, whose `fail` only
 * sends the item to the library, which then names the problem).
 */
function identityOf(
  raw: Record<string, unknown>,
  o: {
    readonly section: string;
    readonly index: number;
    readonly idPattern: RegExp;
    readonly tenants: ReadonlySet<string>;
    readonly defaultTenant: string;
    /** The index of each item read so far in this section, by tenant and id. */
    readonly seen: ReadonlyMap<string, number>;
    readonly fail: Fail;
  },
): { id: string; tenant: string; rest: Record<string, unknown>; label: string } {
  const { id, tenant = o.defaultTenant, ...rest } = raw;
  const label = `${o.section}[${o.index}]`;
  if (typeof id !== 'string' || !o.idPattern.test(id))
    o.fail(['id'], `${label}.id must be letters, digits, ".", "_" or "-" (at most 128)`);
  if (typeof tenant !== 'string' || !o.tenants.has(tenant))
    o.fail(['tenant'], `${label}.tenant ${JSON.stringify(tenant)} is not a tenant`);
  const before = o.seen.get(`${tenant}/${id}`);
  if (before !== undefined) o.fail(['id'], `${label}.id ${id} repeats ${o.section}[${before}]`);
  return { id, tenant, rest, label };
}

/** A target item's spec (all but id and tenant), validated: the one check of every path. */
function targetSpecOf(rest: Record<string, unknown>, label: string, fail: Fail): TargetSpec {
  const parsed = parseTargetSpec(rest);
  if ('problems' in parsed) {
    const p = parsed.problems[0]!;
    const path = p.path.split('/').filter(Boolean);
    fail(path, `${label}${path.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join('')} ${p.message}`);
  }
  // A push token cannot be made up here: it must stay the same across reloads, so the file gives it.
  if (parsed.spec.kind === 'push' && parsed.spec.pushToken === undefined)
    fail([], `${label} is a push target: give it a pushToken (16 to 128 letters, digits, _ or -)`);
  return parsed.spec;
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
  /** Valid targets not in a batch yet, and the batches `drain` has not taken. */
  #batch: Target[] = [];
  #batches: Target[][] = [];
  #fallback = false;
  /** The index of each target read so far, by tenant and id (for the repeated-id check). */
  readonly #seen = new Map<string, number>();
  /** The push targets among them (the file-wide pushToken check needs only these). */
  readonly #pushTargets: Target[] = [];

  constructor(
    file: string,
    knownTenants: ReadonlySet<string>,
    now: number,
    /** The tenant of items that name none. */
    defaultTenant = 'default',
  ) {
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
    if (DOCUMENT_MARK.test(text) || text.includes('\t')) {
      this.#fallback = true;
      return;
    }
    const blank = BLANK.test(text);
    if (!blank && !isSpace(text.charCodeAt(0))) {
      // A top-level line: ends the targets list, and may start it.
      this.#endItem();
      this.#inTargets = false;
      const header = TARGETS_HEADER.test(text);
      if (TARGETS_KEY.test(text) && !header) {
        // `targets: [...]` (flow style) or a value on the key's line: the whole document reads it.
        if (!TARGETS_EMPTY.test(text)) this.#fallback = true;
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
    // As /^(\s*)-(\s|$)/ and /^\s*/ would say, without their match arrays (one line in every few).
    let indent = 0;
    while (indent < text.length && isSpace(text.charCodeAt(indent))) indent++;
    const dash =
      text.charCodeAt(indent) === 0x2d &&
      (indent + 1 === text.length || isSpace(text.charCodeAt(indent + 1)));
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
      this.#take(target);
      return;
    }
    if (this.#group.length === 0) this.#groupLine = this.#itemLine;
    this.#group.push(lines.join('\n'));
    if (this.#group.length >= GROUP) this.#parseGroup();
  }

  /**
   * An item's values as a target, or undefined when anything is wrong with it: the library's parse
   * then finds the same problem, by the same checks, and names its line (see #parseGroup).
   */
  #valid(raw: Record<string, unknown>): Target | undefined {
    try {
      const { id, tenant, rest, label } = identityOf(raw, this.#itemChecks(NOT_VALID));
      return { ...targetSpecOf(rest, label, NOT_VALID), ...this.#meta, tenant, id };
    } catch (err) {
      if (err === INVALID) return undefined;
      throw err;
    }
  }

  /** What identityOf needs for the next item of `targets`. */
  #itemChecks(fail: Fail): Parameters<typeof identityOf>[1] {
    return {
      section: 'targets',
      index: this.#seen.size,
      idPattern: TARGET_ID,
      tenants: this.#tenants,
      defaultTenant: this.#defaultTenant,
      seen: this.#seen,
      fail,
    };
  }

  /** Takes a valid target into the batch being made; full batches wait for `drain`. */
  #take(target: Target): void {
    this.#seen.set(`${target.tenant}/${target.id}`, this.#seen.size);
    if (target.kind === 'push') this.#pushTargets.push(target);
    this.#batch.push(target);
    if (this.#batch.length >= BATCH) this.#endBatch();
  }

  #endBatch(): void {
    if (this.#batch.length === 0) return;
    this.#batches.push(this.#batch);
    this.#batch = [];
  }

  /**
   * The batches of valid targets read since the last call, in the file's order: the reader keeps no
   * target once drained, so a caller that drains after every line holds at most a batch or two.
   */
  drain(): Target[][] {
    if (this.#batches.length === 0) return NONE;
    const out = this.#batches;
    this.#batches = [];
    return out;
  }

  /** The valid targets read so far. */
  get count(): number {
    return this.#seen.size;
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
      const i = this.#seen.size;
      if (!isMap(item)) throw problem(item ?? seq, `targets[${i}] must be a mapping`);
      const raw = values[k] as Record<string, unknown>;
      const { id, tenant, rest, label } = identityOf(raw, this.#itemChecks(atNode(item, problem)));
      this.#take({ ...targetOf(rest, item, label, problem, this.#meta), tenant, id });
    }
  }

  /**
   * The file's definitions but its targets (the last of which `drain` then gives), or undefined when
   * only the whole document can read it.
   */
  finish(): OtherDefinitions | undefined {
    this.#endItem();
    this.#parseGroup();
    if (this.#fallback) return undefined;
    this.#endBatch();
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
      { pushTargets: this.#pushTargets },
      restLines,
    );
  }
}

const NONE: Target[][] = [];

/** Items parsed as one YAML document by the library. */
const GROUP = 8;

/** Targets handed on together (see TargetsFileReader.drain). */
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
  const head = ITEM_HEAD.exec(lines[0]!);
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
      if (leadingSpaces(line) !== column) return undefined;
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

/** How many spaces a line starts with (what `^ *` matches, without a match array). */
function leadingSpaces(line: string): number {
  let n = 0;
  while (line.charCodeAt(n) === 0x20) n++;
  return n;
}

const NOT_SIMPLE = Symbol('not simple');

/** The fast path's Fail: the item goes to the library, which names its problem (one error, made once). */
const INVALID = new Error('not a valid target item');
const NOT_VALID: Fail = () => {
  throw INVALID;
};
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
  if (leadingSpaces(inner) === inner.length) return [];
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
 * Reads a targets file from disk a line at a time (see TargetsFileReader), handing each batch of
 * valid targets to `take` as soon as it is read, and awaiting it: the caller stores or checks them,
 * and nothing holds the file's targets (at 20,000 targets, holding them until the file was read, even
 * as text, kept the probe's start-up above its steady RSS; issue 20). A file that only the whole
 * document reads (see TargetsFileReader.finish) is parsed whole, and its targets are handed on
 * then, so a target may be handed on twice: taking one again must replace it. Reading costs about
 * 0.04 ms of CPU per simple target (0.73-1.06 s for 20,000) and more per item the YAML library
 * parses, so it yields to the event loop every few milliseconds: checks already started stay on
 * time while a large file loads. Returns the other definitions and how many targets there were.
 */
export async function readTargetsFile(
  file: string,
  knownTenants: ReadonlySet<string>,
  now: number,
  /** Gets each batch, and the share of the file's bytes read so far (0 to 1). */
  take: (targets: readonly Target[], read: number) => Promise<void> | void,
): Promise<OtherDefinitions & { readonly targetCount: number }> {
  const reader = new TargetsFileReader(file, knownTenants, now);
  const cannot = (cause: unknown) =>
    new BeaconError('TARGETS_FILE_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  try {
    // In chunks, split into lines here: readline's async iterator made a promise and a result
    // object for every line, about 0.5 KB of garbage a line (issue 20). Lines end as readline's do,
    // at \r\n, \n or \r; a \r at a chunk's end waits for the next chunk's \n.
    let carry = '';
    let since = performance.now();
    const size = (await stat(file)).size;
    const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK });
    const read = () => (size > 0 ? Math.min(1, stream.bytesRead / size) : 1);
    for await (const chunk of stream) {
      const text = carry + (chunk as string);
      const end = text.endsWith('\r') ? text.length - 1 : text.length;
      const lines = text.slice(0, end).split(LINE_BREAK);
      carry = lines.pop()! + text.slice(end);
      for (const line of lines) {
        reader.line(line);
        for (const batch of reader.drain()) await take(batch, read());
      }
      if (performance.now() - since > 10) {
        await new Promise((r) => setImmediate(r));
        since = performance.now();
      }
    }
    const last = carry.split(LINE_BREAK);
    if (last.at(-1) === '') last.pop();
    for (const line of last) reader.line(line);
  } catch (err) {
    throw err instanceof BeaconError ? err : cannot(err);
  }
  const rest = reader.finish();
  if (rest) {
    for (const batch of reader.drain()) await take(batch, 1);
    return { ...rest, targetCount: reader.count };
  }
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw cannot(cause);
  });
  const { targets, ...whole } = parseWholeDocument(text, file, knownTenants, now, 'default');
  for (let i = 0; i < targets.length; i += BATCH) await take(targets.slice(i, i + BATCH), 1);
  return { ...whole, targetCount: targets.length };
}

const LINE_BREAK = /\r\n|\n|\r/;
/**
 * Bytes read at a time. A chunk and its lines stay alive while its targets are parsed: at 64 KiB
 * (about 100 targets, 2 MB of short-lived objects) each outlived two of the probe's 1 MB young
 * collections and was promoted, and the probe's RSS at 20,000 targets peaked 102-117 MB while the
 * file loaded; at 4 KiB, 99-100 MB (8 KiB: 100-104; 2 KiB: 103; issue 20, bench/monitor.ts).
 */
const CHUNK = 4 * 1024;
// The reader's patterns, made once: a regular expression literal in a function is a new object
// each time it is evaluated, and a few for every line of a 100,000-target file add up (issue 20).
const DOCUMENT_MARK = /^(---|\.\.\.)(\s|$)/;
const BLANK = /^\s*(#.*)?$/;
const TARGETS_HEADER = /^targets\s*:\s*(#.*)?$/;
const TARGETS_KEY = /^targets\s*:/;
const TARGETS_EMPTY = /^targets\s*:\s*\[\s*\]\s*(#.*)?$/;
const ITEM_HEAD = /^( *- +)(\S.*)$/;

/** Whether a UTF-16 code unit is what a regular expression's \s matches. */
export function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
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
  readonly preview?: (targets: readonly Target[], read: number) => void;
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
    const { store } = this.#o;
    let load: FileTargetsLoad | undefined;
    try {
      // The targets are set aside in the store as they are read, and become the file's targets
      // together with the rest once the whole file is read and valid.
      const staged = (load = await store.targets.loadFileTargets());
      const preview = strict ? this.#o.preview : undefined;
      const defined = await readTargetsFile(
        this.#o.file,
        await this.#o.tenants(),
        Date.now(),
        (batch, read) => {
          preview?.(batch, read);
          return staged.add(batch);
        },
      );
      // Channels first, so rules never name a channel the store does not have yet.
      const channels = await store.channels.replaceFileChannels(defined.channels);
      const targets = await staged.commit();
      const rules = await store.alertRules.replaceFile(defined.alertRules);
      const windows = await store.maintenance.replaceFile(defined.maintenance);
      this.lastError = undefined;
      this.#o.metrics.fileReloads.inc({ outcome: 'applied' });
      this.#o.logger.info(
        {
          file: this.#o.file,
          targets: defined.targetCount,
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
      // Forgets what a failed load set aside (nothing, once committed); a store that is gone has
      // forgotten it already.
      await load?.discard().catch(() => undefined);
      this.loads += 1;
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    await this.#loading;
  }
}
