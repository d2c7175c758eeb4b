import { postgresColumns as c } from '../../store/columns.ts';
import type { Queryable } from '../../store/postgres/errors.ts';
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

/** Which unique name a failed page write ran into, from PostgreSQL's unique violation; else rethrows. */
function takenBy(err: unknown): 'id-taken' | 'slug-taken' | 'domain-taken' {
  const { code, constraint } = err as { code?: string; constraint?: string };
  if (code === '23505') {
    if (constraint === 'monitor_status_pages_slug') return 'slug-taken';
    if (constraint === 'monitor_status_pages_domain') return 'domain-taken';
    if (constraint === 'monitor_status_pages_pkey') return 'id-taken';
  }
  throw err;
}

/** Status pages and their updates on PostgreSQL; the unique indexes decide a race for a slug. */
export class PostgresStatusPages implements StatusPageRepository {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async #one(where: string, params: unknown[]): Promise<StatusPage | undefined> {
    const { rows } = await this.#db.query<StatusPageRow>(
      `SELECT * FROM monitor_status_pages WHERE ${where}`,
      params,
    );
    return rows[0] && toStatusPage(rows[0], c);
  }

  get(tenant: string, id: string): Promise<StatusPage | undefined> {
    return this.#one('tenant = $1 AND id = $2', [tenant, id]);
  }

  bySlug(slug: string): Promise<StatusPage | undefined> {
    return this.#one('slug = $1', [slug]);
  }

  byDomain(domain: string): Promise<StatusPage | undefined> {
    return this.#one('domain = $1', [domain]);
  }

  async list(tenant: string, limit: number, after?: string): Promise<StatusPage[]> {
    const { rows } = await this.#db.query<StatusPageRow>(
      'SELECT * FROM monitor_status_pages WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3',
      [tenant, after ?? '', limit],
    );
    return rows.map((r) => toStatusPage(r, c));
  }

  async create(page: StatusPage): Promise<Exclude<StatusPageWrite, 'not-found'>> {
    try {
      await this.#db.query(
        `INSERT INTO monitor_status_pages (tenant, id, slug, domain, spec, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        statusPageValues(page),
      );
      return 'ok';
    } catch (err) {
      return takenBy(err);
    }
  }

  async update(
    tenant: string,
    id: string,
    spec: StatusPageSpec,
    at: number,
  ): Promise<Exclude<StatusPageWrite, 'id-taken'>> {
    try {
      const result = await this.#db.query(
        `UPDATE monitor_status_pages SET slug = $1, domain = $2, spec = $3, updated_at = $4
         WHERE tenant = $5 AND id = $6`,
        [spec.slug, spec.domain ?? null, statusPageSpec(spec), at, tenant, id],
      );
      return result.rowCount === 1 ? 'ok' : 'not-found';
    } catch (err) {
      const taken = takenBy(err);
      if (taken === 'id-taken') throw err;
      return taken;
    }
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    // One statement, so the page and its updates go together.
    const result = await this.#db.query(
      `WITH updates AS (DELETE FROM monitor_status_updates WHERE tenant = $1 AND page = $2)
       DELETE FROM monitor_status_pages WHERE tenant = $1 AND id = $2`,
      [tenant, id],
    );
    return result.rowCount === 1;
  }

  async addUpdate(update: StatusUpdate): Promise<boolean> {
    const result = await this.#db.query(
      `INSERT INTO monitor_status_updates (tenant, page, id, at, status, title, body, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      statusUpdateValues(update),
    );
    return result.rowCount === 1;
  }

  async getUpdate(tenant: string, page: string, id: string): Promise<StatusUpdate | undefined> {
    const { rows } = await this.#db.query<StatusUpdateRow>(
      'SELECT * FROM monitor_status_updates WHERE tenant = $1 AND page = $2 AND id = $3',
      [tenant, page, id],
    );
    return rows[0] && toStatusUpdate(rows[0], c);
  }

  async listUpdates(
    tenant: string,
    page: string,
    limit: number,
    before?: UpdateCursor,
  ): Promise<StatusUpdate[]> {
    const { rows } = await this.#db.query<StatusUpdateRow>(
      `SELECT * FROM monitor_status_updates
       WHERE tenant = $1 AND page = $2 AND (at, id) < ($3, $4)
       ORDER BY at DESC, id DESC LIMIT $5`,
      [tenant, page, before?.at ?? Number.MAX_SAFE_INTEGER, before?.id ?? '', limit],
    );
    return rows.map((r) => toStatusUpdate(r, c));
  }

  async editUpdate(
    tenant: string,
    page: string,
    id: string,
    fields: StatusUpdateFields,
    at: number,
  ): Promise<boolean> {
    const result = await this.#db.query(
      `UPDATE monitor_status_updates SET title = $1, body = $2, status = $3, at = $4, updated_at = $5
       WHERE tenant = $6 AND page = $7 AND id = $8`,
      [fields.title, fields.body, fields.status, fields.at, at, tenant, page, id],
    );
    return result.rowCount === 1;
  }

  async deleteUpdate(tenant: string, page: string, id: string): Promise<boolean> {
    const result = await this.#db.query(
      'DELETE FROM monitor_status_updates WHERE tenant = $1 AND page = $2 AND id = $3',
      [tenant, page, id],
    );
    return result.rowCount === 1;
  }
}
