/**
 * Runs imports queued by `POST /v1/sites/:id/imports`: one at a time per process, under a lease in
 * the store, so two processes never run one import and one left by a dead process is taken up again.
 * It reads the export (yielding to the event loop as it goes), leaves out days Beacon already
 * collected and refuses an export whose days another import holds, then writes the cells a chunk per
 * transaction, recording progress. Cells replace what the import held for them, so running an import
 * again from the start doubles nothing.
 */
import type { Logger } from 'pino';
import { isBeaconError } from '../errors/catalog.ts';
import { readExport } from './imports.ts';
import type { Import } from './model.ts';
import type { AnalyticsStore } from './store/repositories.ts';
import { formatLocal } from './time-zone.ts';
import { WorkerLoop } from './worker-loop.ts';

/** How long an import is this process's before another may take it over; renewed with every chunk. */
const LEASE_MS = 60_000;
/** Cells written per transaction. */
const CHUNK = 2000;

/** Runs queued imports; `wake()` after queueing one here makes it start at once. */
export class ImportWorker {
  readonly #store: AnalyticsStore;
  readonly #logger: Logger;
  readonly #loop: WorkerLoop;

  constructor(options: { store: AnalyticsStore; pollMs: number; logger: Logger }) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#loop = new WorkerLoop({
      tick: () => this.runQueued(),
      pollMs: options.pollMs,
      logger: options.logger,
      what: 'running imports',
    });
  }

  start(): void {
    this.#loop.start();
  }

  wake(): void {
    this.#loop.wake();
  }

  close(): Promise<void> {
    return this.#loop.close();
  }

  /** Runs imports until none is waiting. */
  async runQueued(): Promise<void> {
    for (;;) {
      const claimed = await this.#store.transaction((tx) =>
        tx.analytics.claimImport(Date.now(), Date.now() + LEASE_MS),
      );
      if (!claimed) return;
      await this.#run(claimed);
    }
  }

  async #run(record: Import): Promise<void> {
    const store = this.#store;
    let current: Import = { ...record, status: 'running', done: 0, total: 0, error: null };
    const save = (next: Import) =>
      store.transaction((tx) => tx.analytics.updateImport(next, Date.now() + LEASE_MS));
    try {
      const site = await store.analytics.site(record.site);
      if (!site || site.tenant !== record.tenant) return;
      const files = await store.transaction((tx) => tx.analytics.importFiles(record.id));
      let lastSaved = Date.now();
      const data = await readExport(
        record.source,
        files,
        { timezone: site.timezone, hosts: [site.domain, ...site.allowedDomains] },
        (rows) => {
          current = { ...current, done: rows };
          // Progress while parsing, a few times a second at most.
          if (Date.now() - lastSaved > 500) {
            lastSaved = Date.now();
            void save(current).catch(() => undefined);
          }
        },
      );
      const firstNative = await store.analytics.firstDay(site.tenant, site.id);
      const cells = data.cells.filter((c) => firstNative === null || c.day < firstNative);
      const skipped = new Set(data.cells.filter((c) => !cells.includes(c)).map((c) => c.day)).size;
      const kept = cells.map((c) => c.day);
      const firstDay = kept.length > 0 ? Math.min(...kept) : null;
      const lastDay = kept.length > 0 ? Math.max(...kept) : null;
      if (firstDay !== null && lastDay !== null) {
        const others = (await store.analytics.imports(site.tenant, site.id)).filter(
          (i) => i.id !== record.id && i.status !== 'failed' && i.firstDay !== null && i.lastDay !== null,
        );
        const clash = others.find((i) => i.firstDay! <= lastDay && firstDay <= i.lastDay!);
        if (clash)
          throw new Error(
            `the export's days ${formatLocal(firstDay, false)} to ${formatLocal(lastDay, false)} overlap import ${clash.id} (${formatLocal(clash.firstDay!, false)} to ${formatLocal(clash.lastDay!, false)}); delete it first`,
          );
      }
      current = { ...current, done: 0, total: cells.length, firstDay, lastDay, skippedDays: skipped };
      await save(current);
      for (let i = 0; i < cells.length; i += CHUNK) {
        // Deleted meanwhile: stop, rather than write cells nobody can see or delete.
        if (!(await store.analytics.findImport(site.tenant, site.id, record.id))) return;
        const chunk = cells.slice(i, i + CHUNK);
        current = { ...current, done: Math.min(cells.length, i + CHUNK) };
        await store.transaction(async (tx) => {
          await tx.analytics.writeImported(site.tenant, site.id, record.id, chunk);
          await tx.analytics.updateImport(current, Date.now() + LEASE_MS);
        });
      }
      current = {
        ...current,
        status: 'completed',
        error: data.ignored.length > 0 ? `not imported: ${data.ignored.join('; ')}` : null,
        finishedAt: Date.now(),
      };
      await save(current);
      this.#logger.info(
        { import: record.id, site: site.id, cells: cells.length, skipped },
        'import completed',
      );
    } catch (err) {
      const message = isBeaconError(err) || err instanceof Error ? err.message : String(err);
      this.#logger.warn({ err, import: record.id }, 'import failed');
      await save({ ...current, status: 'failed', error: message.slice(0, 1000), finishedAt: Date.now() });
    }
  }
}
