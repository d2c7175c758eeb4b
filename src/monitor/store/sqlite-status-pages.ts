import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';
import type { StatusPage, StatusPageSpec, StatusUpdate, UpdateCursor } from '../status-page.ts';
import type { StatusPageRepository, StatusPageWrite, StatusUpdateFields } from './repositories.ts';
import {
  statusPageSpec,
  statusPageValues,
  statusUpdateValues,
  toStatusPage,
  toStatusUpdate,
  type StatusPageRow,
  type StatusUpdateRow,
} from './rows.ts';

type Serial = <T>(fn: () => T) => Promise<T>;

/**
 * Status pages and their updates on SQLite. Writes run in the store's write queue, so a check for a
 * taken slug or domain and the write after it see the same rows.
 */
export class SqliteStatusPages implements StatusPageRepository {
  readonly #reader: SqliteDatabase;
  readonly #writer: SqliteDatabase;
  readonly #serial: Serial;

  constructor(connections: { reader: SqliteDatabase; writer: SqliteDatabase; serial: Serial }) {
    this.#reader = connections.reader;
    this.#writer = connections.writer;
    this.#serial = connections.serial;
  }

  #one(where: string, ...params: string[]): Promise<StatusPage | undefined> {
    const row = this.#reader
      .prepare<string[], StatusPageRow>(`SELECT * FROM monitor_status_pages WHERE ${where}`)
      .get(...params);
    return Promise.resolve(row && toStatusPage(row, c));
  }

  get(tenant: string, id: string): Promise<StatusPage | undefined> {
    return this.#one('tenant = ? AND id = ?', tenant, id);
  }

  bySlug(slug: string): Promise<StatusPage | undefined> {
    return this.#one('slug = ?', slug);
  }

  byDomain(domain: string): Promise<StatusPage | undefined> {
    return this.#one('domain = ?', domain);
  }

  list(tenant: string, limit: number, after?: string): Promise<StatusPage[]> {
    const rows = this.#reader
      .prepare<[string, string, number], StatusPageRow>(
        'SELECT * FROM monitor_status_pages WHERE tenant = ? AND id > ? ORDER BY id LIMIT ?',
      )
      .all(tenant, after ?? '', limit);
    return Promise.resolve(rows.map((r) => toStatusPage(r, c)));
  }

  #exists(tenant: string, id: string): boolean {
    return (
      this.#writer
        .prepare<[string, string], { n: number }>(
          'SELECT COUNT(*) AS n FROM monitor_status_pages WHERE tenant = ? AND id = ?',
        )
        .get(tenant, id)!.n > 0
    );
  }

  /** Which unique name another page than (tenant, id) holds already, if any. */
  #taken(tenant: string, id: string, spec: StatusPageSpec): 'slug-taken' | 'domain-taken' | undefined {
    const holds = (column: 'slug' | 'domain', value: string) =>
      this.#writer
        .prepare<[string, string, string], { n: number }>(
          `SELECT COUNT(*) AS n FROM monitor_status_pages WHERE ${column} = ? AND NOT (tenant = ? AND id = ?)`,
        )
        .get(value, tenant, id)!.n > 0;
    if (holds('slug', spec.slug)) return 'slug-taken';
    if (spec.domain !== undefined && holds('domain', spec.domain)) return 'domain-taken';
    return undefined;
  }

  create(page: StatusPage): Promise<Exclude<StatusPageWrite, 'not-found'>> {
    return this.#serial(() => {
      if (this.#exists(page.tenant, page.id)) return 'id-taken';
      const taken = this.#taken(page.tenant, page.id, page);
      if (taken) return taken;
      this.#writer
        .prepare(
          `INSERT INTO monitor_status_pages (tenant, id, slug, domain, spec, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(statusPageValues(page));
      return 'ok';
    });
  }

  update(
    tenant: string,
    id: string,
    spec: StatusPageSpec,
    at: number,
  ): Promise<Exclude<StatusPageWrite, 'id-taken'>> {
    return this.#serial(() => {
      if (!this.#exists(tenant, id)) return 'not-found';
      const taken = this.#taken(tenant, id, spec);
      if (taken) return taken;
      const changed = this.#writer
        .prepare(
          `UPDATE monitor_status_pages SET slug = ?, domain = ?, spec = ?, updated_at = ?
           WHERE tenant = ? AND id = ?`,
        )
        .run(spec.slug, spec.domain ?? null, statusPageSpec(spec), at, tenant, id).changes;
      return changed === 1 ? 'ok' : 'not-found';
    });
  }

  delete(tenant: string, id: string): Promise<boolean> {
    const db = this.#writer;
    return this.#serial(() =>
      db.transaction(() => {
        db.prepare('DELETE FROM monitor_status_updates WHERE tenant = ? AND page = ?').run(tenant, id);
        return (
          db.prepare('DELETE FROM monitor_status_pages WHERE tenant = ? AND id = ?').run(tenant, id)
            .changes === 1
        );
      })(),
    );
  }

  addUpdate(update: StatusUpdate): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer
          .prepare(
            `INSERT INTO monitor_status_updates (tenant, page, id, at, status, title, body, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          )
          .run(statusUpdateValues(update)).changes === 1,
    );
  }

  getUpdate(tenant: string, page: string, id: string): Promise<StatusUpdate | undefined> {
    const row = this.#reader
      .prepare<[string, string, string], StatusUpdateRow>(
        'SELECT * FROM monitor_status_updates WHERE tenant = ? AND page = ? AND id = ?',
      )
      .get(tenant, page, id);
    return Promise.resolve(row && toStatusUpdate(row, c));
  }

  listUpdates(tenant: string, page: string, limit: number, before?: UpdateCursor): Promise<StatusUpdate[]> {
    const rows = this.#reader
      .prepare<[string, string, number, number, string, number], StatusUpdateRow>(
        `SELECT * FROM monitor_status_updates
         WHERE tenant = ? AND page = ? AND (at < ? OR (at = ? AND id < ?))
         ORDER BY at DESC, id DESC LIMIT ?`,
      )
      .all(
        tenant,
        page,
        before?.at ?? Number.MAX_SAFE_INTEGER,
        before?.at ?? Number.MAX_SAFE_INTEGER,
        before?.id ?? '',
        limit,
      );
    return Promise.resolve(rows.map((r) => toStatusUpdate(r, c)));
  }

  editUpdate(
    tenant: string,
    page: string,
    id: string,
    fields: StatusUpdateFields,
    at: number,
  ): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer
          .prepare(
            `UPDATE monitor_status_updates SET title = ?, body = ?, status = ?, at = ?, updated_at = ?
             WHERE tenant = ? AND page = ? AND id = ?`,
          )
          .run(fields.title, fields.body, fields.status, fields.at, at, tenant, page, id).changes === 1,
    );
  }

  deleteUpdate(tenant: string, page: string, id: string): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer
          .prepare('DELETE FROM monitor_status_updates WHERE tenant = ? AND page = ? AND id = ?')
          .run(tenant, page, id).changes === 1,
    );
  }
}
