import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { BeaconError } from '../errors/catalog.ts';
import type { TargetWriter } from './store/repositories.ts';
import type { MonitorMetrics } from './metrics.ts';
import { parseTargetSpec, TARGET_ID, type Target } from './target.ts';

/**
 * Parses a targets file (monitoring as code):
 *
 * ```yaml
 * targets:
 *   - id: homepage          # required, unique per tenant; keeps history across edits
 *     tenant: default       # optional, default "default"
 *     url: https://example.com/
 *     intervalSeconds: 30
 *     pattern: Welcome
 * ```
 *
 * Throws TARGETS_FILE_INVALID naming the file, line and field of the first problem.
 */
export function parseTargetsFile(
  text: string,
  file: string,
  knownTenants: ReadonlySet<string>,
  now: number,
): Target[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problem = (node: Node | null | undefined, message: string): BeaconError => {
    const at = node?.range ? lines.linePos(node.range[0]) : undefined;
    return new BeaconError('TARGETS_FILE_INVALID', `${file}${at ? `:${at.line}` : ''}: ${message}`);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    // linePos is only filled with prettyErrors; the offset is always there.
    const at = lines.linePos(e.pos[0]);
    throw new BeaconError('TARGETS_FILE_INVALID', `${file}:${at.line}: ${e.message.split('\n')[0]}`);
  }
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) throw problem(doc.contents, 'the file must be a mapping with a `targets` list');
  const list = doc.get('targets', true) as Node | undefined;
  if (list === undefined || list === null) return [];
  if (!isSeq(list)) throw problem(list, '`targets` must be a list');
  const seq = list as unknown as { items: Node[] };
  const targets: Target[] = [];
  const seen = new Map<string, number>();
  for (const [i, item] of seq.items.entries()) {
    if (!isMap(item)) throw problem(item, `targets[${i}] must be a mapping`);
    const raw = item.toJSON() as Record<string, unknown>;
    const { id, tenant = 'default', ...rest } = raw;
    const at = (key: string) => (item.get(key, true) as Node | undefined) ?? item;
    if (typeof id !== 'string' || !TARGET_ID.test(id)) {
      throw problem(at('id'), `targets[${i}].id must be letters, digits, ".", "_" or "-" (at most 128)`);
    }
    if (typeof tenant !== 'string' || !knownTenants.has(tenant)) {
      throw problem(at('tenant'), `targets[${i}].tenant ${JSON.stringify(tenant)} is not a tenant`);
    }
    const key = `${tenant}/${id}`;
    if (seen.has(key)) throw problem(at('id'), `targets[${i}].id ${id} repeats targets[${seen.get(key)!}]`);
    seen.set(key, i);
    const parsed = parseTargetSpec(rest);
    if ('problems' in parsed) {
      const p = parsed.problems[0]!;
      const path = p.path.split('/').filter(Boolean);
      const node = (path.length > 0 ? (item.getIn(path, true) as Node | undefined) : undefined) ?? item;
      throw problem(
        node,
        `targets[${i}]${path.map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join('')} ${p.message}`,
      );
    }
    const spec = (parsed as { spec: Target }).spec;
    targets.push({
      ...spec,
      id: id,
      tenant: tenant,
      source: 'file',
      createdAt: now,
      updatedAt: now,
    });
  }
  return targets;
}

export interface TargetFileOptions {
  readonly file: string;
  readonly writer: TargetWriter;
  readonly tenants: () => Promise<ReadonlySet<string>>;
  /** Called after a new set was stored, so the prober picks it up at once. */
  readonly applied: () => void;
  readonly metrics: MonitorMetrics;
  readonly logger: Logger;
}

/**
 * Keeps the file-defined targets in the store equal to the file. It reloads on every change; a bad
 * file is rejected with the line named, and the targets from the last good file keep running.
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
      const text = await readFile(this.#o.file, 'utf8').catch((cause: unknown) => {
        throw new BeaconError(
          'TARGETS_FILE_INVALID',
          `cannot read ${this.#o.file}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      });
      const targets = parseTargetsFile(text, this.#o.file, await this.#o.tenants(), Date.now());
      const { upserted, deleted } = await this.#o.writer.replaceFileTargets(targets);
      this.lastError = undefined;
      this.#o.metrics.fileReloads.inc({ outcome: 'applied' });
      this.#o.logger.info(
        { file: this.#o.file, targets: targets.length, upserted, deleted },
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
